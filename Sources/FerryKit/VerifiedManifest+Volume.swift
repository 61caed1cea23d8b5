import FerryArchive
import MailModel

extension VerifiedManifest {
    /// Refuses a volume of a volume set (format-spec 13.1) given where a whole archive is expected: a volume holds part
    /// of an export, so importing, reconciling or building a delta on it alone would take a part for the whole.
    func refusingVolume(_ path: String, for purpose: String) throws -> VerifiedManifest {
        guard let volume = statement.volume else { return self }
        throw FerryError(
            .usage,
            "\(path) is volume \(volume.number) of volume set \(volume.set), not a whole export: \(purpose) does not take "
                + "one volume alone. Give the set (the folder holding its volumes and NAME.set, or all of them) to "
                + "`mailferry import`, `verify` or `inspect`")
    }
}
