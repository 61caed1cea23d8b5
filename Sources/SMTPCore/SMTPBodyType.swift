/// The BODY parameter of MAIL FROM (RFC 6152).
public enum SMTPBodyType: String, Hashable, Sendable {
    case sevenBit = "7BIT"
    case eightBitMIME = "8BITMIME"
}
