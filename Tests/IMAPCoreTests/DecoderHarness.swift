import Foundation
import IMAPCore

/// Feeds bytes to a decoder in pieces of `chunk` bytes and collects every event, body chunks joined, so
/// byte-at-a-time and all-at-once runs can be compared.
func decodeEvents(_ bytes: [UInt8], chunk: Int, limits: IMAPLimits = .default, greeting: Bool = true) throws
    -> [IMAPResponseEvent]
{
    var decoder = IMAPResponseDecoder(limits: limits, expectingGreeting: greeting)
    var events: [IMAPResponseEvent] = []
    func drain() throws {
        while let event = try decoder.next() {
            if case .fetchBodyBytes(let more) = event, case .fetchBodyBytes(let earlier)? = events.last {
                events[events.count - 1] = .fetchBodyBytes(earlier + more)
            } else {
                events.append(event)
            }
        }
    }
    var offset = 0
    while offset < bytes.count {
        decoder.append(bytes[offset..<min(bytes.count, offset + chunk)])
        offset += chunk
        try drain()
    }
    try drain()
    return events
}

func transcript(_ name: String) throws -> [UInt8] {
    let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Transcripts")
    return Array(try Data(contentsOf: directory.appendingPathComponent(name)))
}

extension Array where Element == IMAPResponseEvent {
    var untagged: [IMAPUntaggedResponse] {
        compactMap { if case .untagged(let u) = $0 { return u } else { return nil } }
    }
    var tagged: [IMAPTaggedResponse] {
        compactMap { if case .tagged(let t) = $0 { return t } else { return nil } }
    }
}
