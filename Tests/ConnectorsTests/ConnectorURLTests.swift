import Connectors
import MailModel
import Testing

struct ConnectorURLTests {
    @Test func imapURLsGiveHostPortAndSecurity() throws {
        #expect(try ConnectorURL(parsing: "imap://mail.example.com") == .imap(host: "mail.example.com", port: 143, implicitTLS: false))
        #expect(try ConnectorURL(parsing: "imaps://mail.example.com") == .imap(host: "mail.example.com", port: 993, implicitTLS: true))
        #expect(try ConnectorURL(parsing: "IMAP://127.0.0.1:1143/") == .imap(host: "127.0.0.1", port: 1143, implicitTLS: false))
        #expect(try ConnectorURL(parsing: "imaps://[::1]:9993") == .imap(host: "::1", port: 9993, implicitTLS: true))
        #expect(try ConnectorURL(parsing: "imaps://[::1]:9993").description == "imaps://[::1]:9993")
    }

    @Test func credentialsInTheURLAndBadPortsAreRefused() {
        for text in ["imap://alice:pw@host", "imap://host:0", "imap://host:x", "imap://", "imap:host", "imap://host/INBOX"] {
            #expect(throws: FerryError.self, "\(text)") { try ConnectorURL(parsing: text) }
        }
        do {
            _ = try ConnectorURL(parsing: "imap://alice:hunter2@host")
        } catch {
            #expect("\(error)".contains("--credentials"))
        }
    }
}
