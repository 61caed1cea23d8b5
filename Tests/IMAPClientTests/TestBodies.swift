import Foundation
import MailModel

/// A large message generated on the fly in 1 MiB pieces, so the test never holds it whole either: a header,
/// then CRLF lines; each piece starts with its own number, so misplaced pieces change the digest.
struct GeneratedBody: ItemBody {
    let byteCount: Int64
    var origin: String { "generated(\(byteCount))" }
    static let header = Array("From: big@example.com\r\nSubject: Big message\r\n\r\n".utf8)
    static let block: [UInt8] = {
        let line = Array("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ++++++++++\r\n".utf8)
        var block: [UInt8] = []
        while block.count < 1 << 20 { block += line }
        return Array(block.prefix(1 << 20))
    }()

    init(size: Int64) { byteCount = size }

    func stream(_ consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        let head = Array(Self.header.prefix(Int(min(Int64(Self.header.count), byteCount))))
        try head.withUnsafeBytes { try consume($0) }
        var produced = Int64(head.count)
        var piece = Self.block
        var number = 0
        while produced < byteCount {
            number += 1
            let label = Array(String(format: "%010d", number).utf8)
            piece.replaceSubrange(0..<label.count, with: label)
            let take = Int(min(Int64(piece.count), byteCount - produced))
            try piece.withUnsafeBytes { try consume(UnsafeRawBufferPointer(rebasing: $0[0..<take])) }
            produced += Int64(take)
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
