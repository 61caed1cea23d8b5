/// Writes ManageSieve commands (RFC 5804 section 4): the command's name, then each argument as a quoted string
/// when it can be one, otherwise as a non-synchronizing literal, which every server must accept.
///
///     command     = name *(SP argument) CRLF
///     string      = quoted / literal-c2s
///     literal-c2s = "{" number "+}" CRLF *OCTET
public enum ManageSieveCommandEncoder {
    /// The longest argument sent quoted; longer ones (scripts) go as literals.
    static let maxQuotedBytes = 1024

    public static func encode(_ name: String, _ arguments: [[UInt8]]) -> [UInt8] {
        var out = Array(name.utf8)
        for argument in arguments {
            out.append(UInt8(ascii: " "))
            if canQuote(argument) {
                out.append(UInt8(ascii: "\""))
                for byte in argument {
                    if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { out.append(UInt8(ascii: "\\")) }
                    out.append(byte)
                }
                out.append(UInt8(ascii: "\""))
            } else {
                out += Array("{\(argument.count)+}\r\n".utf8)
                out += argument
            }
        }
        out += [UInt8(ascii: "\r"), UInt8(ascii: "\n")]
        return out
    }

    /// A quoted string holds no CR, LF or NUL (RFC 5804 `SAFE-CHAR`), is valid UTF-8 and short.
    static func canQuote(_ bytes: [UInt8]) -> Bool {
        bytes.count <= maxQuotedBytes && !bytes.contains(where: { $0 == 0 || $0 == 0x0D || $0 == 0x0A })
            && String(validating: bytes, as: UTF8.self) != nil
    }
}
