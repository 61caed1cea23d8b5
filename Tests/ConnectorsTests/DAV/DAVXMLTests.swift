import Foundation
import Testing

@testable import Connectors

/// The DAV connector's pure parts: the XML tree with its refusal of document type declarations, the line ends a
/// multiget's XML took, the content-lines digest, and which references name this server.
struct DAVXMLTests {
    @Test func aMultistatusIsReadWithNamespacesAndText() throws {
        let xml = """
            <?xml version="1.0" encoding="utf-8"?>
            <!-- a comment before the root is fine -->
            <d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:carddav"><d:response><d:href>/a/b.vcf</d:href>
            <d:propstat><d:status>HTTP/1.1 200 OK</d:status><d:prop><c:address-data><![CDATA[BEGIN:VCARD
            FN:<!DOCTYPE is only text here> & more
            END:VCARD
            ]]></c:address-data></d:prop></d:propstat></d:response></d:multistatus>
            """
        let root = try DAVXMLElement.parse(Array(xml.utf8))
        let response = DAVResponse(href: "/a/b.vcf", element: root.all(DAVXMLElement.dav, "response")[0])
        let data = try #require(response.property(DAVXMLElement.cardDAV, "address-data"))
        #expect(data.text.contains("FN:<!DOCTYPE is only text here> & more"))
    }

    @Test func aDocumentTypeDeclarationIsRefusedBeforeParsing() {
        let bomb = """
            <?xml version="1.0"?>
            <!DOCTYPE d:multistatus [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
            <d:multistatus xmlns:d="DAV:"><d:response><d:href>&b;</d:href></d:response></d:multistatus>
            """
        #expect {
            _ = try DAVXMLElement.parse(Array(bomb.utf8))
        } throws: { error in
            "\(error)".contains("document type declaration")
        }
        #expect(DAVXMLElement.documentTypeDeclaration(in: Array("\u{FEFF}<?xml version='1.0'?>\n<!-- x --><!DOCTYPE x><x/>".utf8)) != nil)
        #expect(DAVXMLElement.documentTypeDeclaration(in: Array("<x>&lt;!DOCTYPE</x>".utf8)) == nil)
    }

    @Test func brokenXMLIsAnError() {
        #expect(throws: DAVXMLElement.Refusal.self) { _ = try DAVXMLElement.parse(Array("<d:multistatus xmlns:d=\"DAV:\">".utf8)) }
    }

    @Test func lineEndsTheXMLTookComeBackAndOthersStay() {
        #expect(DAVObjectBytes.restoringLineEnds("BEGIN:VCARD\nEND:VCARD\n") == Array("BEGIN:VCARD\r\nEND:VCARD\r\n".utf8))
        #expect(DAVObjectBytes.restoringLineEnds("A\r\nB\n") == Array("A\r\nB\n".utf8))
    }

    @Test func theContentLinesDigestIgnoresOrderAndFoldingOnly() {
        let a = Array("BEGIN:VEVENT\r\nUID:1\r\nSUMMARY:Long sum\r\n mary\r\nEND:VEVENT\r\n".utf8)
        let b = Array("BEGIN:VEVENT\r\nSUMMARY:Long summary\r\nUID:1\r\nEND:VEVENT\r\n".utf8)
        let c = Array("BEGIN:VEVENT\r\nSUMMARY:Long summary!\r\nUID:1\r\nEND:VEVENT\r\n".utf8)
        #expect(DAVObjectBytes.contentLinesDigest(a) == DAVObjectBytes.contentLinesDigest(b))
        #expect(DAVObjectBytes.contentLinesDigest(a) != DAVObjectBytes.contentLinesDigest(c))
    }

    @Test func onlyThisServersReferencesArePaths() throws {
        let access = IMAPServerAccess(
            host: "dav.example.com", port: 443, implicitTLS: true, caFile: nil, allowPlaintext: false,
            credentials: try IMAPCredentials(text: "a@example.com\tpw\n", origin: "test"), timeout: .seconds(5),
            settingsOrigin: .commandLine)
        let server = DAVServer(access: access, path: "/")
        #expect(server.pathOnThisServer("https://dav.example.com/a/b/", from: "/a/") == "/a/b/")
        #expect(server.pathOnThisServer("https://DAV.example.com:443/a/", from: "/") == "/a/")
        #expect(server.pathOnThisServer("/x/y", from: "/a/") == "/x/y")
        #expect(server.pathOnThisServer("c.vcf", from: "/a/b/") == "/a/b/c.vcf")
        for other in ["https://evil.example.org/a/", "http://dav.example.com/a/", "https://dav.example.com:8443/a/", "//evil.example.org/a/"] {
            #expect(server.pathOnThisServer(other, from: "/") == nil, "\(other)")
        }
    }
}
