/// resp-text = ["[" resp-text-code "]" SP] [text]
public struct IMAPResponseText: Sendable, Hashable {
    public var code: IMAPResponseCode?
    public var text: String
    public init(code: IMAPResponseCode? = nil, text: String) {
        self.code = code
        self.text = text
    }
}

/// OK, NO, BAD in tagged and untagged responses; PREAUTH and BYE only untagged.
public enum IMAPStatus: String, Sendable, Hashable {
    case ok = "OK", no = "NO", bad = "BAD", preauth = "PREAUTH", bye = "BYE"
}

/// response-tagged = tag SP resp-cond-state CRLF
public struct IMAPTaggedResponse: Sendable, Hashable {
    public var tag: String
    public var status: IMAPStatus
    public var text: IMAPResponseText
    public init(tag: String, status: IMAPStatus, text: IMAPResponseText) {
        self.tag = tag
        self.status = status
        self.text = text
    }
}

/// greeting = "*" SP (resp-cond-auth / resp-cond-bye) CRLF
public struct IMAPGreeting: Sendable, Hashable {
    /// `.ok`, `.preauth` or `.bye`.
    public var status: IMAPStatus
    public var text: IMAPResponseText
    public init(status: IMAPStatus, text: IMAPResponseText) {
        self.status = status
        self.text = text
    }
}
