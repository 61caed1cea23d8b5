import MailModel

/// Reads one user's mail from an mbox file (which becomes INBOX) or a directory tree of them (see
/// `MboxLayout` for how files map to folders). Flags come from the Status-style header fields
/// (`MboxStatus`), the internal date from the From_ line, falling back to the `Date:` field and then the
/// file's modification time. mbox has no subscriptions; its clients show every folder, so every folder
/// is marked subscribed.
public struct MboxSource: MailboxSource {
    /// Header bytes read per message for the summary: real headers are a few KiB; 64 KiB also covers
    /// long Received chains while bounding what one message can make us hold.
    public static let summaryHeaderLimit = 64 * 1024

    public let path: String
    public let user: UserInfo
    let chunkSize: Int

    /// `chunkSize` is how much of a file is read at a time; tests lower it to cross chunk boundaries.
    public init(path: String, user: UserInfo, chunkSize: Int = MboxReader.defaultChunkSize) {
        self.path = path
        self.user = user
        self.chunkSize = chunkSize
    }

    public func users() throws -> [UserInfo] { [user] }

    public func read(user: UserInfo, into sink: any MailboxSink) throws {
        guard user == self.user else {
            throw ConnectorError(location: path, message: "user \(user.address) is not in this mbox source (\(self.user.address) is)")
        }
        let folders = try MboxLayout.discover(path)
        try sink.beginUser(user)
        for folder in folders {
            let info = FolderInfo(
                path: folder.path, separator: "/", specialUse: folder.path == ["INBOX"] ? "\\Inbox" : nil,
                subscribed: true)
            let number = try sink.folder(info)
            for file in folder.files { try readFile(file, folder: number, into: sink) }
        }
        try sink.endUser(settings: UserSettings())
    }

    func readFile(_ path: String, folder: Int, into sink: any MailboxSink) throws {
        let file = try ReadOnlyFile(path: path)
        // Bodies compare the file's size against this one when streamed, so a file that changes
        // under the export is caught rather than giving wrong bytes.
        let (size, modified) = try file.status()
        try MboxReader(file: file, chunkSize: chunkSize).scan { location in
            try deliver(location, file: file, size: size, modified: modified, folder: folder, sink: sink)
        }
    }

    func deliver(
        _ location: MboxMessageLocation, file: ReadOnlyFile, size: Int64, modified: InternalDate, folder: Int,
        sink: any MailboxSink
    ) throws {
        let header = try file.read(
            at: location.contentOffset, count: Int(min(Int64(Self.summaryHeaderLimit), location.contentLength)))
        let summary = HeaderSummary(header: header)
        let status = MboxStatus(header: header)
        var date = location.fromLine.date
        if date == nil {
            let fromHeader = summary.date.flatMap(RFC5322.date)
            date = fromHeader ?? modified
            sink.warning(
                SourceProblem(
                    location: "\(file.path):\(location.lineNumber)",
                    message: "the From_ line's date '\(location.fromLine.dateText)' cannot be read; using "
                        + (fromHeader != nil ? "the Date: header field" : "the file's modification time")))
        }
        let info = MessageInfo(
            flags: status.flags, keywords: status.keywords, internalDate: date!, subject: summary.subject,
            from: summary.from, messageID: summary.messageID)
        let body = MboxMessageBody(path: file.path, location: location, fileSize: size, chunkSize: chunkSize)
        try sink.message(info, inFolder: folder, body: body)
    }
}
