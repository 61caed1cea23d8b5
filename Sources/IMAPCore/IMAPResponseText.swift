/// resp-text = ["[" resp-text-code "]" SP] [text]
public struct IMAPResponseText: Sendable, Hashable {
    public var code: IMAPResponseCode?
    public var text: String
    public init(code: IMAPResponseCode? = nil, text: String) {
        self.code = code
        self.text = text
    }
}
