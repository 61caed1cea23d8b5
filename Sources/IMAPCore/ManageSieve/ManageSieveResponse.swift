/// A whole ManageSieve response (RFC 5804 section 1.3): the data lines a command brought, then its OK, NO or BYE
/// with an optional response code and text.
///
///     response-oknobye = ("OK" / "NO" / "BYE") [SP "(" resp-code ")"] [SP string] CRLF
public struct ManageSieveResponse: Equatable, Sendable {
    public enum Status: String, Sendable {
        case ok = "OK", no = "NO", bye = "BYE"
    }

    public var status: Status
    /// The response code's tokens, the first an atom (`QUOTA/MAXSIZE`, `NONEXISTENT`, `SASL`), or empty.
    public var code: [ManageSieveToken]
    /// The human-readable text, as the server sent it.
    public var text: String?
    /// The lines before the completion (capabilities, LISTSCRIPTS entries, GETSCRIPT's literal).
    public var lines: [[ManageSieveToken]]

    public init(status: Status, code: [ManageSieveToken] = [], text: String? = nil, lines: [[ManageSieveToken]] = []) {
        self.status = status
        self.code = code
        self.text = text
        self.lines = lines
    }

    /// The completion `line` stands for, or nil when it is a data line (its first token is not OK, NO or BYE).
    public static func completion(_ line: [ManageSieveToken]) throws(ManageSieveParseError) -> ManageSieveResponse? {
        guard case .atom(let word)? = line.first, let status = Status(rawValue: word.uppercased()) else { return nil }
        var rest = line.dropFirst()
        var code: [ManageSieveToken] = []
        if case .list(let list)? = rest.first {
            code = list
            rest = rest.dropFirst()
        }
        var text: String?
        if let token = rest.first {
            guard case .string = token else { throw ManageSieveParseError("\(word)'s text is not a string") }
            text = token.text
            rest = rest.dropFirst()
        }
        guard rest.isEmpty else { throw ManageSieveParseError("more after \(word)'s text") }
        return ManageSieveResponse(status: status, code: code, text: text)
    }

    /// The response code's name, uppercased (`QUOTA/MAXSIZE`), or nil.
    public var codeName: String? {
        guard case .atom(let name)? = code.first else { return nil }
        return name.uppercased()
    }
}
