import Connectors
import Foundation
import MailModel
import Testing

struct IMAPCredentialsTests {
    @Test func userLinesAndAnAdminLineGiveEachUserALogin() throws {
        let text = "# station B\nalice@example.com\tsecret one\n\n*\tadmin\tmaster pw\tmaster\r\nBob@Example.com\tb\n"
        let c = try IMAPCredentials(text: text, origin: "creds.tsv")
        #expect(try c.login(for: "alice@example.com") == .user(name: "alice@example.com", password: "secret one"))
        #expect(try c.login(for: "bob@example.com") == .user(name: "bob@example.com", password: "b"))
        #expect(try c.login(for: "carol@example.com") == .master(name: "carol@example.com*admin", password: "master pw"))
        #expect(!c.description.contains("secret") && !c.description.contains("master pw"))
    }

    @Test func aSASLAdminActsThroughTheAuthorizationIdentity() throws {
        let c = try IMAPCredentials(text: "*\tadmin\tpw\tsasl\n", origin: "x")
        #expect(try c.login(for: "dave@example.com") == .sasl(authorizationID: "dave@example.com", authenticationID: "admin", password: "pw"))
    }

    @Test func badLinesNameTheLineAndNeverThePassword() {
        let cases: [(String, String)] = [
            ("alice@example.com hunter2\n", "line 1"),
            ("alice@example.com\t\n", "line 1"),
            ("a@x\tp\na@x\thunter2\n", "a second line"),
            ("*\tadmin\thunter2\tmagic\n", "unknown admin method"),
            ("*\tadmin\n", "an admin line is"),
            ("# nothing\n", "no credentials"),
        ]
        for (text, expected) in cases {
            do {
                _ = try IMAPCredentials(text: text, origin: "creds.tsv")
                Issue.record("accepted \(text.debugDescription)")
            } catch {
                let message = "\(error)"
                #expect(message.contains(expected), "\(message)")
                #expect(message.contains("creds.tsv"))
                #expect(!message.contains("hunter2"))
            }
        }
    }

    @Test func aUserWithoutALineAndNoAdminIsAnError() throws {
        let c = try IMAPCredentials(text: "a@x\tp\n", origin: "f")
        #expect(throws: ConnectorError.self) { try c.login(for: "b@x") }
    }

    @Test func theEnvironmentVariableIsReadWhenNoFileIsGiven() throws {
        let c = try IMAPCredentials.load(path: nil, environment: ["MAILFERRY_CREDENTIALS": "a@x\tp\n"])
        #expect(c.origin == "$MAILFERRY_CREDENTIALS")
        #expect(throws: ConnectorError.self) { try IMAPCredentials.load(path: nil, environment: [:]) }
    }
}
