/// What the decoder hands out: whole responses, and FETCH responses as a start, attributes, streamed bodies and
/// an end.
public enum IMAPResponseEvent: Sendable, Hashable {
    case greeting(IMAPGreeting)
    /// continue-req = "+" SP (resp-text / base64) CRLF
    case continuation(String)
    case tagged(IMAPTaggedResponse)
    case untagged(IMAPUntaggedResponse)
    /// `* n FETCH (`
    case fetchStart(sequence: UInt32)
    case fetchAttribute(IMAPFetchAttribute)
    /// `BODY[section]<origin>`, `BINARY[section]` or `RFC822...` with a literal (or quoted string) of `size` bytes.
    case fetchBodyStart(section: String, size: Int64)
    case fetchBodyBytes([UInt8])
    case fetchBodyEnd
    /// The FETCH response's closing `)`.
    case fetchEnd
}
