import Foundation
import MailModel

import SystemLayer
#if canImport(Glibc)
import Glibc
#endif

/// A message too large to keep in memory, copied to a temporary file that has no name (unlinked at once, so
/// nothing is left behind however the process ends), so that an APPEND cut off by a dropped connection can be sent
/// again from the start.
final class SpooledMessage: ItemBody {
    let byteCount: Int64
    let origin: String
    /// The SHA-256 of the bytes held (with `inCRLFForm`, of that form).
    let sha256: String
    /// Line endings `CRLFForm` changed on the way (0 without `inCRLFForm`).
    let changedLineEndings: Int64
    private let descriptor: Int32
    static let chunkSize = 1 << 20

    /// Copies `body` into a file in `directory`, with `inCRLFForm` in the form an IMAP server holds.
    init(copying body: any ItemBody, directory: String, inCRLFForm: Bool = false) throws {
        var template = Array((directory + "/.spool-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw SourceError(location: directory, message: "cannot create a temporary file for a large message: \(String(cString: strerror(errno)))")
        }
        unlink(String(cString: template))
        descriptor = fd
        origin = body.origin
        var written: Int64 = 0
        let hasher = SHA256()
        var form = CRLFForm()
        func append(_ chunk: UnsafeRawBufferPointer) throws {
            hasher.update(chunk)
            var offset = 0
            while offset < chunk.count {
                let n = write(fd, chunk.baseAddress! + offset, chunk.count - offset)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else {
                    throw SourceError(location: directory, message: "cannot write a large message to a temporary file: \(String(cString: strerror(errno)))")
                }
                offset += n
            }
            written += Int64(chunk.count)
        }
        do {
            try body.stream { chunk in
                if inCRLFForm { try form.convert(chunk, append) } else { try append(chunk) }
            }
            try form.finish(append)
        } catch {
            close(fd)
            throw error
        }
        byteCount = written
        sha256 = hasher.finalizeHex()
        changedLineEndings = form.changedLineEndings
    }

    deinit { close(descriptor) }

    func stream(_ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        var buffer = [UInt8](repeating: 0, count: Self.chunkSize)
        var offset: Int64 = 0
        while offset < byteCount {
            let wanted = Int(min(Int64(Self.chunkSize), byteCount - offset))
            let n = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress!, wanted, off_t(offset)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw SourceError(location: origin, message: "cannot read back the spooled copy of a large message: \(n < 0 ? String(cString: strerror(errno)) : "it ended early")")
            }
            try buffer.withUnsafeBytes { try consume(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            offset += Int64(n)
        }
    }
}
