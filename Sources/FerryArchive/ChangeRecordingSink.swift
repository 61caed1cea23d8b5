import MailModel

/// A `MailboxSink` that also takes a delta's change lines (format-spec 6.8): one archive (`ArchiveWriter`) or a volume
/// set (`VolumeSetWriter`, which puts each line in the volume open at that moment, with its container numbered as
/// there). `DeltaSink` writes through it, so a delta is written as one archive or as a volume set the same way.
public protocol ChangeRecordingSink: MailboxSink {
    /// Adds a change line for the open user; `change.container` is the number the sink gave the container.
    func recordChange(_ change: ChangeRecord) throws
}

extension ArchiveWriter: ChangeRecordingSink {}
