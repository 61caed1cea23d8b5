/// An enhanced mail system status code (RFC 3463), written `class.subject.detail`, such as 2.1.0.
public struct SMTPEnhancedStatusCode: Hashable, Sendable, CustomStringConvertible {
    /// 2 success, 4 persistent transient failure, 5 permanent failure.
    public var statusClass: Int
    public var subject: Int
    public var detail: Int

    public init(_ statusClass: Int, _ subject: Int, _ detail: Int) {
        precondition([2, 4, 5].contains(statusClass), "RFC 3463 section 3.1: class is 2, 4 or 5")
        precondition((0...999).contains(subject) && (0...999).contains(detail), "RFC 3463: 1 to 3 digits")
        self.statusClass = statusClass
        self.subject = subject
        self.detail = detail
    }

    public var description: String { "\(statusClass).\(subject).\(detail)" }
}
