/// The form a message takes in a store that holds RFC 5322 text with CRLF line endings (every IMAP server, by
/// RFC 9051 section 2.2 and RFC 5322 section 2.1): each line ending, whether CRLF, a bare LF or a bare CR, becomes
/// CRLF; nothing else changes. A message already in that form is left exactly as it is.
///
/// Archives keep the source's bytes exactly (a Maildir's or an mbox's messages usually end their lines with LF
/// alone); a target that holds CRLF receives this form, and its reconcile expects it. Converting is streaming:
/// feed the bytes in any chunks, the output does not depend on where the chunks are cut.
public struct CRLFForm {
    /// The previous chunk ended with a CR whose LF (if any) may start the next one.
    private var pendingCR = false
    /// Line endings changed so far (bare LFs and bare CRs made CRLF).
    public private(set) var changedLineEndings: Int64 = 0
    /// Bytes produced so far.
    public private(set) var outputCount: Int64 = 0

    public init() {}

    private static let cr = UInt8(ascii: "\r")
    private static let lf = UInt8(ascii: "\n")
    private static let crlf: [UInt8] = [cr, lf]

    /// Converts the next chunk, giving the output to `emit` in one or more pieces (the input itself where it needs
    /// no change). Call `finish` after the last chunk.
    public mutating func convert(_ chunk: UnsafeRawBufferPointer, _ emit: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        var start = 0
        var i = 0
        let n = chunk.count
        if pendingCR, n > 0 {
            // The CR that ended the previous chunk was held back: it stands with this LF, or alone.
            pendingCR = false
            let withLF = chunk[0] == Self.lf
            try emitCRLF(changed: !withLF, emit)
            if withLF { i = 1; start = 1 }
        }
        while i < n {
            let byte = chunk[i]
            guard byte == Self.lf || byte == Self.cr else {
                i += 1
                continue
            }
            if byte == Self.cr {
                if i + 1 == n {
                    // The last byte of the chunk: whether it is bare is known with the next chunk.
                    try flush(chunk, start, i, emit)
                    pendingCR = true
                    start = n
                    break
                }
                if chunk[i + 1] == Self.lf {
                    i += 2
                    continue
                }
            }
            // A bare LF or a bare CR.
            try flush(chunk, start, i, emit)
            try emitCRLF(changed: true, emit)
            i += 1
            start = i
        }
        try flush(chunk, start, n, emit)
    }

    /// Ends the input: a CR held back at the very end is a bare CR.
    public mutating func finish(_ emit: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        guard pendingCR else { return }
        pendingCR = false
        try emitCRLF(changed: true, emit)
    }

    private mutating func emitCRLF(changed: Bool, _ emit: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        try Self.crlf.withUnsafeBytes(emit)
        outputCount += 2
        if changed { changedLineEndings += 1 }
    }

    private mutating func flush(
        _ chunk: UnsafeRawBufferPointer, _ from: Int, _ to: Int, _ emit: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        guard to > from else { return }
        try emit(UnsafeRawBufferPointer(rebasing: chunk[from..<to]))
        outputCount += Int64(to - from)
    }

    /// `bytes` in CRLF form, or nil when they are in it already.
    public static func converting(_ bytes: [UInt8]) -> [UInt8]? {
        guard needsConversion(bytes) else { return nil }
        var form = CRLFForm()
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 32)
        bytes.withUnsafeBytes { form.convert($0) { out.append(contentsOf: $0) } }
        form.finish { out.append(contentsOf: $0) }
        return out
    }

    /// Whether any line ending in `bytes` is not CRLF.
    public static func needsConversion(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { raw in
            var i = 0
            let n = raw.count
            while i < n {
                let byte = raw[i]
                if byte == lf { return true }
                if byte == cr {
                    guard i + 1 < n, raw[i + 1] == lf else { return true }
                    i += 2
                    continue
                }
                i += 1
            }
            return false
        }
    }
}
