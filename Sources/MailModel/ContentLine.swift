/// One logical (unfolded) line of a vCard or iCalendar object, split into its parts.
public struct ContentLine: Hashable, Sendable {
    /// The vCard group before the dot, as in `item1.EMAIL` (RFC 6350 section 3.3); nil when absent.
    public var group: String?
    /// Upper-cased: property names are case-insensitive.
    public var name: String
    public var parameters: [ContentLineParameter]
    /// The value as written (still escaped; see `ContentLines.unescapeText`).
    public var value: String
    /// The number of the physical line the logical line starts on, from 1.
    public var lineNumber: Int
    /// The bytes of the whole logical line in the input, from its first byte to just after its last line break.
    public var byteRange: Range<Int>

    public init(
        group: String?, name: String, parameters: [ContentLineParameter], value: String, lineNumber: Int,
        byteRange: Range<Int>
    ) {
        self.group = group
        self.name = name
        self.parameters = parameters
        self.value = value
        self.lineNumber = lineNumber
        self.byteRange = byteRange
    }
}
