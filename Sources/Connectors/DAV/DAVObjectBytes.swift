import SystemLayer

/// The bytes of a vCard or iCalendar object as a multiget REPORT carries them inside XML.
///
/// XML 1.0 section 2.11 has every parser turn CR LF (and a lone CR) into LF, so an object sent with its CR LF line
/// ends unescaped, as Radicale sends them, arrives with LF only; vCard (RFC 6350 section 3.2) and iCalendar (RFC 5545
/// section 3.1) both require CR LF. Text with no CR at all therefore gets its CR LF back; text that kept a CR (a
/// server that escapes it as `&#13;`) is taken as it is. Tests compare the result with what GET returns.
enum DAVObjectBytes {
    static func restoringLineEnds(_ text: String) -> [UInt8] {
        let bytes = Array(text.utf8)
        guard !bytes.contains(13) else { return bytes }
        var restored: [UInt8] = []
        restored.reserveCapacity(bytes.count + bytes.count / 40)
        for byte in bytes {
            if byte == 10 { restored.append(13) }
            restored.append(byte)
        }
        return restored
    }
}

extension DAVObjectBytes {
    /// A digest of an object's content lines regardless of their order and folding: lines unfolded (RFC 5545
    /// section 3.1, RFC 6350 section 3.2), split at line ends, empty ones dropped, sorted, hashed. Servers that store
    /// an object in their own serialisation (Xandikos puts every iCalendar object through its library, which orders
    /// the properties its way) keep this digest; any change of a property's name, parameters or value changes it.
    static func contentLinesDigest(_ bytes: [UInt8]) -> String {
        var unfolded: [UInt8] = []
        unfolded.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            if byte == 13 && i + 1 < bytes.count && bytes[i + 1] == 10 {
                if i + 2 < bytes.count && (bytes[i + 2] == 32 || bytes[i + 2] == 9) {
                    i += 3
                    continue
                }
                unfolded.append(10)
                i += 2
                continue
            }
            if byte == 10 && i + 1 < bytes.count && (bytes[i + 1] == 32 || bytes[i + 1] == 9) {
                i += 2
                continue
            }
            unfolded.append(byte)
            i += 1
        }
        let lines = unfolded.split(separator: 10).filter { !$0.isEmpty }.map { Array($0) }
            .sorted { $0.lexicographicallyPrecedes($1) }
        let hasher = SHA256()
        for line in lines {
            hasher.update(line)
            hasher.update([10])
        }
        return hasher.finalizeHex()
    }
}
