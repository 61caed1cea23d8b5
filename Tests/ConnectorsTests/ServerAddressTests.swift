import Connectors
import Testing

@Suite struct ServerAddressTests {
    @Test func namesAddressesAndPortsAsURLsWriteThem() throws {
        #expect(try ServerAddress(parsing: "mail.example.com", defaultPort: 993) == ServerAddress(host: "mail.example.com", port: 993))
        #expect(try ServerAddress(parsing: "127.0.0.1:2424", defaultPort: 24) == ServerAddress(host: "127.0.0.1", port: 2424))
        #expect(try ServerAddress(parsing: "[::1]:143", defaultPort: 993) == ServerAddress(host: "::1", port: 143))
        #expect(try ServerAddress(parsing: "[fe80::1]", defaultPort: 24) == ServerAddress(host: "fe80::1", port: 24))
        #expect(ServerAddress(host: "::1", port: 143).description == "[::1]:143")
    }

    @Test func badAddressesSayWhatIsWrong() {
        for (text, problem) in [
            ("[::1", "unclosed [ in the host"), ("[::1]143", "expected :PORT after the host"), ("host:0", "bad port"),
            ("host:65536", "bad port"), ("host:", "bad port"), (":143", "names no host"), ("[]:143", "names no host"),
        ] {
            #expect(throws: ServerAddress.AddressError.self) { try ServerAddress(parsing: Substring(text), defaultPort: 1) }
            do {
                _ = try ServerAddress(parsing: Substring(text), defaultPort: 1)
            } catch {
                #expect(error.description.hasPrefix(problem), "\(text): \(error)")
            }
        }
    }
}
