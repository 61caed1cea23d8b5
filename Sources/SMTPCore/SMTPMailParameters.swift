/// The parameters of MAIL FROM: the ones the buffer acts on, decoded, and all of them as given.
public struct SMTPMailParameters: Hashable, Sendable {
    /// SIZE=n (RFC 1870): the client's estimate of the message size in octets.
    public var size: Int?
    /// BODY=7BIT or BODY=8BITMIME (RFC 6152).
    public var body: SMTPBodyType?
    /// Every parameter in the order given, SIZE and BODY included; RET and ENVID (RFC 3461)
    /// are kept here untouched.
    public var all: [SMTPParameter]

    public init(size: Int? = nil, body: SMTPBodyType? = nil, all: [SMTPParameter] = []) {
        self.size = size
        self.body = body
        self.all = all
    }

    /// The value of a parameter by keyword, any case; `.some(nil)` for a keyword without value.
    public subscript(keyword: String) -> String?? {
        let wanted = keyword.uppercased()
        return all.first { $0.keyword == wanted }.map { $0.value }
    }
}
