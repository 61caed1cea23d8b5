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

    @Test func sieveURLsGiveHostAndPort4190ByDefault() throws {
        #expect(try ConnectorURL(parsing: "sieve://mail.example.com") == .sieve(host: "mail.example.com", port: 4190))
        #expect(try ConnectorURL(parsing: "SIEVE://127.0.0.1:14190/") == .sieve(host: "127.0.0.1", port: 14190))
        #expect(try ConnectorURL(parsing: "sieve://[::1]").description == "sieve://[::1]:4190")
        #expect(try ConnectorURL(parsing: "sieve://h").ledgerName == "sieve://h:4190")
        #expect(try ConnectorURL(parsing: "sieve://h").listsUsers == false)
        for text in ["sieve://alice:pw@host", "sieve://host:0", "sieve://", "sieve:host", "sieve://host/script"] {
            #expect(throws: FerryError.self, "\(text)") { try ConnectorURL(parsing: text) }
        }
    }

    @Test func davURLsGiveHostPortPathAndSecurity() throws {
        #expect(try ConnectorURL(parsing: "davs://dav.example.com") == .dav(host: "dav.example.com", port: 443, path: "/", implicitTLS: true))
        #expect(try ConnectorURL(parsing: "dav://127.0.0.1:5232/") == .dav(host: "127.0.0.1", port: 5232, path: "/", implicitTLS: false))
        #expect(
            try ConnectorURL(parsing: "DAVS://[::1]:8443/remote.php/dav/")
                == .dav(host: "::1", port: 8443, path: "/remote.php/dav/", implicitTLS: true))
        #expect(try ConnectorURL(parsing: "davs://h/dav/").description == "davs://h:443/dav/")
        #expect(try ConnectorURL(parsing: "davs://h").ledgerName == "davs://h:443")
        #expect(try ConnectorURL(parsing: "davs://h").listsUsers == false)
        #expect(try ConnectorURL(parsing: "davs://h").heldKinds == [.contact, .calendarItem])
        for text in ["davs://alice:pw@host", "davs://host:0", "davs://", "davs:host", "davs://host/x?y=1"] {
            #expect(throws: FerryError.self, "\(text)") { try ConnectorURL(parsing: text) }
        }
        do {
            _ = try ConnectorURL(parsing: "caldav:https://host")
            Issue.record("caldav: was taken")
        } catch {
            #expect("\(error)".contains("davs://"))
        }
    }
}
