/// What went wrong reading a server's bytes: malformed input, a limit passed, or (inside a complete frame)
/// input that ended too early. Descriptions carry at most a short, escaped excerpt of response text and never
/// literal contents.
public struct IMAPCoreError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// The bytes do not follow the grammar.
        case badInput
        /// The input stopped before the rule was complete. Within a complete frame this is bad input too.
        case incomplete
        /// A size limit from `IMAPLimits` was passed.
        case limitExceeded
    }
    public var kind: Kind
    public var message: String
    /// Offset in the response line where parsing stopped, when known.
    public var offset: Int?
    /// The bytes around where parsing stopped, shown as `excerpt` only when asked: parsers try alternatives and
    /// drop most errors they make, so making the text every time cost a fifth of a delta import's parsing.
    private var excerptBytes: [UInt8]?
    private var excerptText: String?

    public var excerpt: String? { excerptText ?? excerptBytes.map { Self.excerpt(of: $0) } }

    public init(_ kind: Kind, _ message: String, offset: Int? = nil, excerpt: String? = nil) {
        self.kind = kind
        self.message = message
        self.offset = offset
        self.excerptText = excerpt
    }

    /// An error whose excerpt is made from `bytes` (up to 61 of them are kept) when it is shown.
    init(_ kind: Kind, _ message: String, offset: Int?, excerptOf bytes: some Collection<UInt8>) {
        self.kind = kind
        self.message = message
        self.offset = offset
        self.excerptBytes = Array(bytes.prefix(61))
    }

    public var description: String {
        var text = message
        if let offset { text += " at offset \(offset)" }
        if let excerpt { text += " in \(excerpt)" }
        return text
    }

    /// Up to 60 bytes of a line, printable ASCII kept, everything else escaped, for error messages.
    static func excerpt(of bytes: some Collection<UInt8>) -> String {
        var out = "\""
        for byte in bytes.prefix(60) {
            switch byte {
            case 0x20...0x7e where byte != 0x22 && byte != 0x5c: out.append(Character(Unicode.Scalar(byte)))
            case 0x0d: out += "\\r"
            case 0x0a: out += "\\n"
            default: out += "\\x" + (byte < 16 ? "0" : "") + String(byte, radix: 16)
            }
        }
        if bytes.count > 60 { out += "..." }
        return out + "\""
    }
}
