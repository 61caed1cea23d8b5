/// One parameter of a vCard or iCalendar content line, such as `TYPE=work,voice`.
public struct ContentLineParameter: Hashable, Sendable {
    /// Upper-cased: parameter names are case-insensitive (RFC 6350 section 3.3, RFC 5545 section 2).
    public var name: String
    /// Values with their quotes removed; empty for a vCard 2.1 bare parameter such as `;HOME`.
    public var values: [String]

    public init(name: String, values: [String]) {
        self.name = name
        self.values = values
    }
}
