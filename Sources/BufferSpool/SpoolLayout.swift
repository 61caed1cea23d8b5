/// Paths inside a spool directory. See format-spec/buffer-spool.md, "Directory layout".
struct SpoolLayout: Sendable {
    let root: String

    var database: String { root + "/spool.sqlite" }
    var lock: String { root + "/spool.lock" }
    var incoming: String { root + "/incoming" }
    var messages: String { root + "/messages" }

    func incomingFile(_ token: String) -> String { incoming + "/" + token + ".tmp" }
    func messageFile(_ token: String) -> String { messages + "/" + token + ".eml" }

    /// A token is 32 lowercase hex digits (128 random bits).
    static func isToken(_ text: Substring) -> Bool {
        text.utf8.count == 32 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    /// The token of a name `<token><suffix>`, nil for any other name.
    static func token(of name: String, suffix: String) -> String? {
        guard name.hasSuffix(suffix) else { return nil }
        let stem = name.dropLast(suffix.count)
        return isToken(stem) ? String(stem) : nil
    }

    static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let high = generator.next() as UInt64
        let low = generator.next() as UInt64
        return hex16(high) + hex16(low)
    }

    private static func hex16(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
