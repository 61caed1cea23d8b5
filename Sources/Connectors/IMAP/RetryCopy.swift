import Foundation
import MailModel
import SystemLayer

/// A message too large to keep in memory, copied to a temporary file that has no name (unlinked at once, so
/// nothing is left behind however the process ends), so that an APPEND cut off by a dropped connection can be sent
/// again from the start.
final class RetryCopy: ItemBody {
    let byteCount: Int64
    let origin: String
    /// The SHA-256 of the bytes held (with `inCRLFForm`, of that form).
    let sha256: String
    /// Line endings `CRLFForm` changed on the way (0 without `inCRLFForm`).
    let changedLineEndings: Int64
    private let temporary: UnlinkedTemporaryFile
    static let chunkSize = 1 << 20

    /// Copies `body` into a file in `directory`, with `inCRLFForm` in the form an IMAP server holds.
    init(copying body: any ItemBody, directory: String, inCRLFForm: Bool = false) throws {
        do {
            temporary = try UnlinkedTemporaryFile(in: directory, prefix: ".retry-copy-")
        } catch {
            throw ConnectorError(location: directory, message: "cannot create a temporary file for a large message: \(error.reason)")
        }
        let file = temporary.file
        origin = body.origin
        var written: Int64 = 0
        let hasher = SHA256()
        var form = CRLFForm()
        func append(_ chunk: UnsafeRawBufferPointer) throws {
            hasher.update(chunk)
            do {
                try file.writeAll(chunk)
            } catch {
                throw ConnectorError(location: directory, message: "cannot write a large message to a temporary file: \(error.reason)")
            }
            written += Int64(chunk.count)
        }
        try body.stream { chunk in
            if inCRLFForm { try form.convert(chunk, append) } else { try append(chunk) }
        }
        try form.finish(append)
        byteCount = written
        sha256 = hasher.finalizeHex()
        changedLineEndings = form.changedLineEndings
    }

    func stream(_ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        var buffer = [UInt8](repeating: 0, count: Self.chunkSize)
        var offset: Int64 = 0
        while offset < byteCount {
            let wanted = Int(min(Int64(Self.chunkSize), byteCount - offset))
            let n: Int
            do {
                n = try buffer.withUnsafeMutableBytes { raw in
                    Result { () throws(SystemError) in
                        try temporary.file.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<wanted]), at: offset)
                    }
                }.get()
            } catch {
                throw ConnectorError(location: origin, message: "cannot read back the spooled copy of a large message: \(error.reason)")
            }
            guard n > 0 else {
                throw ConnectorError(location: origin, message: "cannot read back the spooled copy of a large message: it ended early")
            }
            try buffer.withUnsafeBytes { try consume(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            offset += Int64(n)
        }
    }
}
