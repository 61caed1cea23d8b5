import FerryArchive
import MailModel

extension VerifiedManifest {
    /// Refuses a volume of a volume set (format-spec 13.1) where only a whole export will do: a volume holds part of
    /// the export, so importing, reconciling or building a delta on it alone would take a part for the whole.
    func refusingVolume(_ path: String, for purpose: String) throws -> VerifiedManifest {
        guard let volume = statement.volume else { return self }
        throw FerryError(
            .usage,
            "\(path) is volume \(volume.number) of volume set \(volume.set), not a whole export: \(purpose) takes single "
                + "archives in this version (volume sets are verified and inspected as a set: `mailferry verify FOLDER`); "
                + "export again without --volume-size onto a medium without a file size limit")
    }
}
