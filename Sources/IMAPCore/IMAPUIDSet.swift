/// A set of UIDs as ranges (RFC 9051 sequence-set); a range up to `UInt32.max` is written with `*`.
public struct IMAPUIDSet: Sendable, Hashable, CustomStringConvertible {
    public var ranges: [ClosedRange<UInt32>]

    public init(_ range: ClosedRange<UInt32>) { ranges = [range] }

    /// Sorted, duplicates dropped, consecutive UIDs joined into ranges.
    public init(_ uids: some Sequence<UInt32>) {
        var result: [ClosedRange<UInt32>] = []
        for uid in Set(uids).sorted() {
            if let last = result.last, last.upperBound &+ 1 == uid, last.upperBound != .max {
                result[result.count - 1] = last.lowerBound...uid
            } else {
                result.append(uid...uid)
            }
        }
        ranges = result
    }

    public var isEmpty: Bool { ranges.isEmpty }

    /// The set cut into sets of at most `maxRanges` ranges each, in order, so that a command naming a large set
    /// stays within the line length servers accept (`IMAPUIDSet.maxRangesPerCommand`).
    public func split(maxRanges: Int = IMAPUIDSet.maxRangesPerCommand) -> [IMAPUIDSet] {
        precondition(maxRanges > 0)
        return stride(from: 0, to: ranges.count, by: maxRanges).map { start in
            var part = IMAPUIDSet([])
            part.ranges = Array(ranges[start..<min(start + maxRanges, ranges.count)])
            return part
        }
    }

    /// Ranges one command names at most. RFC 7162 section 4 asks clients to keep command lines within 8192
    /// octets; a range is at most 22 octets (`4294967294:4294967295,`), so 300 of them take at most 6600 and
    /// leave room for the rest of the command (a flag list, a mailbox name).
    public static let maxRangesPerCommand = 300

    /// The UIDs of a uid-set as a server wrote it (RFC 4315 APPENDUID/COPYUID: `1,4:6`), in the order written,
    /// each range counted upwards; nil when it is malformed, holds `*` or names more than `limit` UIDs.
    public static func expand(_ text: String, limit: Int = 1 << 20) -> [UInt32]? {
        var uids: [UInt32] = []
        for element in text.split(separator: ",", omittingEmptySubsequences: false) {
            let ends = element.split(separator: ":", omittingEmptySubsequences: false)
            guard ends.count == 1 || ends.count == 2 else { return nil }
            guard let a = UInt32(ends[0]), a > 0, let b = UInt32(ends[ends.count - 1]), b > 0 else { return nil }
            let range = min(a, b)...max(a, b)
            guard uids.count + range.count <= limit else { return nil }
            uids.append(contentsOf: range)
        }
        return uids
    }

    /// sequence-set = (seq-number / seq-range) ["," sequence-set] ; seq-number = nz-number / "*"
    public var description: String {
        ranges.map { range in
            func text(_ n: UInt32) -> String { n == .max ? "*" : String(n) }
            return range.lowerBound == range.upperBound
                ? text(range.lowerBound) : "\(text(range.lowerBound)):\(text(range.upperBound))"
        }.joined(separator: ",")
    }
}

/// UIDs `lowerBound...upperBound`; `1...UInt32.max` is `1:*`.
public typealias IMAPUIDRange = ClosedRange<UInt32>
