/// The header section of an Internet message (RFC 5322 section 2.2), read with the leniency real mail
/// needs: bare LF as well as CRLF, obsolete white space before the colon (section 4.5), and lines that
/// are not fields (an mbox `From ` line, garbage) skipped rather than fatal.
public enum RFC5322 {
    static let cr: UInt8 = 0x0D
    static let lf: UInt8 = 0x0A
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09
    static let colon: UInt8 = 0x3A

    /// The index (counted from the collection's start) just after the empty line that ends the header
    /// section, or nil when the bytes hold no empty line (a header cut short, or no body at all).
    ///
    ///     message = (fields / obs-fields) [CRLF body]     ; RFC 5322 section 3.5
    public static func headerEnd(in bytes: some Collection<UInt8>) -> Int? {
        var offset = 0
        var atLineStart = true
        var sawCR = false
        for byte in bytes {
            offset += 1
            if byte == lf {
                if atLineStart { return offset }
                atLineStart = true
                sawCR = false
            } else if byte == cr && atLineStart && !sawCR {
                // A CR at the start of a line may be the first half of an empty CRLF line.
                sawCR = true
            } else {
                atLineStart = false
                sawCR = false
            }
        }
        return nil
    }

    /// The header fields in order, unfolded, up to the empty line or the end of the bytes, whichever
    /// comes first. A prefix cut in the middle of a field gives that field as far as it goes.
    ///
    ///     field       = field-name ":" unstructured CRLF    ; RFC 5322 section 2.2
    ///     field-name  = 1*ftext                             ; section 3.6.8
    ///     ftext       = %d33-57 / %d59-126                  ; printable US-ASCII except ":"
    ///     obs-optional = field-name *WSP ":" unstructured CRLF  ; section 4.5.3
    ///     unfolding: remove any CRLF immediately followed by WSP  ; section 2.2.3
    public static func headerFields(in bytes: some Collection<UInt8>) -> [HeaderField] {
        let header = Array(bytes.prefix(headerEnd(in: bytes) ?? bytes.count))
        var fields: [HeaderField] = []
        for line in lines(of: header) {
            if line.isEmpty { break }
            if line[line.startIndex] == space || line[line.startIndex] == tab {
                // A continuation line: the line break before it is removed, its white space kept.
                if !fields.isEmpty { fields[fields.count - 1].rawValue.append(contentsOf: line) }
                continue
            }
            guard let colon = line.firstIndex(of: colon) else { continue }
            var nameEnd = colon
            while nameEnd > line.startIndex, line[nameEnd - 1] == space || line[nameEnd - 1] == tab {
                nameEnd -= 1
            }
            let name = line[line.startIndex..<nameEnd]
            guard !name.isEmpty, name.allSatisfy({ $0 >= 33 && $0 <= 126 }) else { continue }
            fields.append(HeaderField(name: String(decoding: name, as: UTF8.self), rawValue: Array(line[(colon + 1)...])))
        }
        return fields
    }

    /// Splits at LF, dropping the LF and a CR before it; a last line without LF is kept.
    static func lines(of bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        var result: [ArraySlice<UInt8>] = []
        var start = 0
        while start < bytes.count {
            var end = bytes[start...].firstIndex(of: lf) ?? bytes.count
            let next = end + 1
            if end > start && bytes[end - 1] == cr { end -= 1 }
            result.append(bytes[start..<end])
            start = next
        }
        return result
    }

    /// Header bytes as text: UTF-8 when valid (RFC 6532 allows it), otherwise ISO-8859-1, where every
    /// byte maps to the code point of the same number, so nothing is lost or replaced.
    public static func text(_ bytes: some Collection<UInt8>) -> String {
        if let utf8 = String(validating: Array(bytes), as: UTF8.self) { return utf8 }
        return String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
    }
}
