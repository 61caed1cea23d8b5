import Foundation
import MailModel

/// One user's identity map: where each archived folder and message is now at the target, beside the identity the
/// source gave it (folder GUID and UIDVALIDITY, UID, GUID, source key), so that a migration can say which message
/// became which: for mail clients' caches, POP3 UIDLs, audits and later passes. An import writes every row as CSV
/// beside its report (`csvText(row:)`, RFC 4180) and keeps the first rows here for the HTML page.
public struct IdentityMap: Sendable {
    public static let columns = [
        "kind", "source_folder", "source_folder_guid", "source_uidvalidity", "source_uid", "source_guid", "source_key",
        "entry", "target_folder", "target_folder_guid", "target_uidvalidity", "target_uid", "target_guid", "target_file",
    ]

    /// One folder or message, its values in `columns` order ("" where unknown).
    public struct Row: Sendable, Equatable {
        public var values: [String]
        public var kind: String { values[0] }
    }

    public var address: String
    /// The folder rows and the first message rows, up to the page's row limit.
    public var rows: [Row] = []
    public var folderCount = 0
    public var messageCount = 0
    /// Where every row is, when the map was written to a file.
    public var csvPath: String?

    public init(address: String) { self.address = address }

    public static func folderRow(
        source: [String], sourceGUID: String?, sourceUIDValidity: UInt32?, placed: FolderPlacement?
    ) -> Row {
        Row(values: [
            "folder", source.joined(separator: "/"), sourceGUID ?? "", text(sourceUIDValidity), "", "", "", "",
            placed?.folder ?? "", placed?.guid ?? "", text(placed?.uidValidity), "", "", "",
        ])
    }

    public static func messageRow(
        sourceFolder: [String], sourceUIDValidity: UInt32?, sourceUID: UInt32?, sourceGUID: String?, sourceKey: String?,
        entry: String, placed: ItemPlacement?
    ) -> Row {
        Row(values: [
            "message", sourceFolder.joined(separator: "/"), "", text(sourceUIDValidity), text(sourceUID), sourceGUID ?? "",
            sourceKey ?? "", entry, placed?.folder ?? "", "", text(placed?.uidValidity), text(placed?.uid),
            placed?.targetGUID ?? "", placed?.file ?? "",
        ])
    }

    private static func text(_ number: UInt32?) -> String { number.map(String.init) ?? "" }

    /// The CSV header line.
    public static var csvHeader: String { csvLine(columns) }

    /// One CSV line (RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled), with CRLF.
    public static func csvLine(_ values: [String]) -> String {
        values.map { value in
            guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" }) else { return value }
            return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }.joined(separator: ",") + "\r\n"
    }
}
