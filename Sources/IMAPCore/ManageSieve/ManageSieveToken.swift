/// One element of a ManageSieve response line (RFC 5804 section 4): an atom (`OK`, `ACTIVE`, `QUOTA/MAXSIZE`), a
/// string (quoted or literal, as its bytes), or a parenthesised response code.
public enum ManageSieveToken: Equatable, Sendable {
    case atom(String)
    case string([UInt8])
    case list([ManageSieveToken])

    /// The string's bytes as UTF-8 text (invalid sequences replaced), or an atom's text.
    public var text: String? {
        switch self {
        case .atom(let a): return a
        case .string(let bytes): return String(decoding: bytes, as: UTF8.self)
        case .list: return nil
        }
    }
}
