import FerryArchive
import Reporting

/// The numbers a receipt carries for its user: what the archive held, what the target holds, and how many items
/// matched, were missing or were different.
public struct ReceiptCounts: Codable, Sendable, Equatable {
    public var archive: Counts
    public var target: Counts
    public var matched: Int
    public var missing: Int
    public var mismatched: Int
    /// Items at the target the archive does not hold (not a failure).
    public var extra: Int
    /// Matched messages the target holds with their line endings made CRLF (`CRLFForm`); absent when none.
    public var lineEndingsConverted: Int?

    public init(archive: Counts, target: Counts, matched: Int, missing: Int, mismatched: Int, extra: Int) {
        self.archive = archive
        self.target = target
        self.matched = matched
        self.missing = missing
        self.mismatched = mismatched
        self.extra = extra
    }

    init(_ user: ReconcileReport.UserReport) {
        self.init(
            archive: user.archive, target: user.target,
            matched: user.containers.reduce(0) { $0 + $1.matched },
            missing: user.containers.reduce(0) { $0 + $1.missing.count },
            mismatched: user.containers.reduce(0) { $0 + $1.mismatched.count },
            extra: user.containers.reduce(0) { $0 + $1.extra })
        let converted = user.containers.reduce(0) { $0 + ($1.lineEndingsConverted ?? 0) }
        lineEndingsConverted = converted > 0 ? converted : nil
    }
}
