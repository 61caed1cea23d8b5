import Foundation
import MailModel

/// A large message generated on the fly in 64 KiB pieces: CRLF lines, each numbered, so the test never holds it
/// whole either.
struct GeneratedBody: ItemBody {
    let byteCount: Int64
    var origin: String { "generated(\(byteCount))" }
    static let header = Array("From: big@example.com\r\nSubject: Big message\r\n\r\n".utf8)

    init(size: Int64) { byteCount = size }

    func stream(_ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        var produced: Int64 = 0
        var buffer: [UInt8] = []
        buffer.reserveCapacity(65_600)
        var line = 0
        func emit(_ bytes: [UInt8]) throws {
            let take = Int(min(Int64(bytes.count), byteCount - produced))
            buffer.append(contentsOf: bytes[0..<take])
            produced += Int64(take)
            if buffer.count >= 65_536 || produced == byteCount {
                try buffer.withUnsafeBytes { try consume($0) }
                buffer.removeAll(keepingCapacity: true)
            }
        }
        try emit(Self.header)
        let filler = Array("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ++".utf8)
        while produced < byteCount {
            line += 1
            var text = Array(String(line).utf8)
            text = Array(repeating: UInt8(ascii: "0"), count: 10 - text.count) + text
            try emit(text + filler + [0x0d, 0x0a])
        }
    }
}

/// FNV-1a over a stream of chunks.
struct Digest {
    var value: UInt64 = 0xcbf2_9ce4_8422_2325
    var count: Int64 = 0
    mutating func add(_ chunk: UnsafeRawBufferPointer) {
        var h = value
        for byte in chunk {
            h = (h ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        value = h
        count += Int64(chunk.count)
    }
    static func of(_ body: any ItemBody) throws -> Digest {
        var digest = Digest()
        try body.stream { digest.add($0) }
        return digest
    }
}

/// Peak and current resident memory of this process, from /proc.
enum Memory {
    static func kilobytes(_ field: String) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0
        }
        return 0
    }
    static var residentMB: Int { kilobytes("VmRSS") / 1024 }
}
