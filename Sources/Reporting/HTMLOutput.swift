/// Builds an HTML document as UTF-8 bytes, handing full chunks to a sink so that a large page is never held
/// whole. Markup the program writes goes in with `raw`; everything that came from a mailbox, an archive, a server
/// or a command line goes in with `text`, which escapes it.
///
/// `text` escapes `& < > " '`, so a value is safe in element content and in quoted attribute values. Characters that
/// are invisible or reorder what follows them (C0 and C1 controls, zero-width characters, the bidirectional
/// embeddings, overrides and isolates, the byte order mark) are shown as a visible `U+XXXX` mark instead: a folder
/// named with a right-to-left override must not turn the rest of its row around, and a reader should see that the
/// name holds one. Callers put such values inside `<bdi>` so right-to-left names stay in their cell.
struct HTMLOutput {
    /// Bytes waiting for the sink.
    private(set) var bytes: [UInt8] = []
    /// When `bytes` reaches this size, `flushIfFull` hands it on.
    static let chunkSize = 1 << 16

    init() {
        bytes.reserveCapacity(Self.chunkSize + 4096)
    }

    mutating func raw(_ markup: String) {
        bytes.append(contentsOf: markup.utf8)
    }

    mutating func text(_ value: String) {
        for scalar in value.unicodeScalars {
            switch scalar {
            case "&": bytes.append(contentsOf: "&amp;".utf8)
            case "<": bytes.append(contentsOf: "&lt;".utf8)
            case ">": bytes.append(contentsOf: "&gt;".utf8)
            case "\"": bytes.append(contentsOf: "&quot;".utf8)
            case "'": bytes.append(contentsOf: "&#39;".utf8)
            case "\t", "\n": bytes.append(UInt8(scalar.value))
            default:
                if Self.isHidden(scalar) {
                    let hex = String(scalar.value, radix: 16, uppercase: true)
                    let padded = String(repeating: "0", count: max(0, 4 - hex.count)) + hex
                    bytes.append(contentsOf: "<span class=\"cc\" title=\"hidden character\">U+\(padded)</span>".utf8)
                } else {
                    bytes.append(contentsOf: String(scalar).utf8)
                }
            }
        }
    }

    /// A number with thin groups of three digits (12 345), for tables people scan.
    mutating func number(_ n: some BinaryInteger) {
        let digits = String(n.magnitude)
        var grouped = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { grouped += "\u{202F}" }
            grouped.append(c)
        }
        raw((n < 0 ? "-" : "") + grouped)
    }

    /// Hands the bytes gathered so far to `sink` once there are at least `chunkSize` of them.
    mutating func flushIfFull(_ sink: (ArraySlice<UInt8>) throws -> Void) rethrows {
        if bytes.count >= Self.chunkSize { try flush(sink) }
    }

    mutating func flush(_ sink: (ArraySlice<UInt8>) throws -> Void) rethrows {
        guard !bytes.isEmpty else { return }
        try sink(bytes[...])
        bytes.removeAll(keepingCapacity: true)
    }

    /// Characters a reader could not see or that would reorder the text around them.
    static func isHidden(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: return true  // C0 and C1 controls (tab and newline are handled before)
        case 0x00AD: return true  // soft hyphen
        case 0x061C: return true  // Arabic letter mark
        case 0x180E: return true  // Mongolian vowel separator
        case 0x200B, 0x200E, 0x200F: return true  // zero-width space, LRM, RLM (the joiners are part of scripts and emoji)
        case 0x2028, 0x2029: return true  // line and paragraph separators
        case 0x202A...0x202E: return true  // LRE, RLE, PDF, LRO, RLO
        case 0x2060...0x2064, 0x2066...0x206F: return true  // word joiner, invisible operators, isolates, deprecated
        case 0xFEFF: return true  // byte order mark
        case 0xFFF9...0xFFFB: return true  // interlinear annotation
        default: return false
        }
    }
}
