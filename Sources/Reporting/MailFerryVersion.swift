/// The tool's name and version, recorded in every archive's header.
public enum MailFerryVersion {
    public static let version = "0.1.0"
    public static let tool = "mailferry \(version)"
}
