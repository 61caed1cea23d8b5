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
