/// One service extension a server lists in its EHLO or LHLO reply (RFC 5321 section 4.1.1.1).
public enum SMTPCapability: Hashable, Sendable {
    /// RFC 2920.
    case pipelining
    /// RFC 1870; the maximum message size in octets, or nil for "no fixed limit".
    case size(Int?)
    /// RFC 6152.
    case eightBitMIME
    /// RFC 2034.
    case enhancedStatusCodes
    /// RFC 3207.
    case startTLS
    /// Any other keyword line, written as given.
    case other(String)

    /// The EHLO line for this capability.
    public var keywordLine: String {
        switch self {
        case .pipelining: return "PIPELINING"
        case .size(let limit): return limit.map { "SIZE \($0)" } ?? "SIZE"
        case .eightBitMIME: return "8BITMIME"
        case .enhancedStatusCodes: return "ENHANCEDSTATUSCODES"
        case .startTLS: return "STARTTLS"
        case .other(let line): return line
        }
    }
}
