import Foundation

@testable import BufferSpool

/// A spool directory under /tmp, removed when the value goes away.
final class TemporarySpool {
    let directory: String

    init() {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("bufferspool-test-\(UUID().uuidString)").path
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    func open() throws -> BufferSpool { try BufferSpool(directory: directory) }

    var messagesDirectory: String { directory + "/messages" }
    var incomingDirectory: String { directory + "/incoming" }

    func files(in path: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
    }
}

/// Deterministic message bytes of a given size.
func sampleMessage(_ number: Int, size: Int) -> [UInt8] {
    var bytes = Array("Message-ID: <\(number)@example.test>\r\nSubject: test \(number)\r\n\r\n".utf8)
    var state = UInt32(truncatingIfNeeded: number &* 2_654_435_761 &+ 1)
    while bytes.count < size {
        state = state &* 1_103_515_245 &+ 12345
        bytes.append(UInt8(truncatingIfNeeded: state >> 16))
    }
    return Array(bytes.prefix(size))
}

func envelope(_ users: [String], sender: String = "sender@example.org", messageID: String? = nil) -> Envelope {
    Envelope(
        sender: sender, recipients: users.map { Recipient(address: "\($0)@example.test", user: $0) },
        messageID: messageID)
}

/// Writes `bytes` in chunks of `chunk` and commits synchronously.
func store(_ spool: BufferSpool, _ envelope: Envelope, _ bytes: [UInt8], chunk: Int = 4096) throws -> HeldMessage {
    let writer = try spool.openMessage(envelope)
    var offset = 0
    while offset < bytes.count {
        try writer.append(bytes[offset..<min(offset + chunk, bytes.count)])
        offset += chunk
    }
    return try writer.commitAndWait()
}

func readBack(_ spool: BufferSpool, _ id: MessageID, chunkSize: Int = 1000) throws -> [UInt8] {
    var out: [UInt8] = []
    try spool.readMessage(id, chunkSize: chunkSize) { out.append(contentsOf: $0) }
    return out
}
