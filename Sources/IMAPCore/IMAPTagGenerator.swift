/// Tags `A0001`, `A0002`, ...: distinct within a connection, which is all RFC 9051 section 2.2.1 asks.
public struct IMAPTagGenerator: Sendable {
    public let prefix: String
    var counter = 0
    public init(prefix: String = "A") { self.prefix = prefix }
    public mutating func next() -> String {
        counter += 1
        let digits = String(counter)
        return prefix + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
