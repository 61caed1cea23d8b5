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
