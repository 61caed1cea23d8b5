import Connectors
import FerryArchive
import Foundation
import MailModel
import Reporting
import SystemLayer

/// `export --estimate`: counts what an export would carry and estimates the archive's size and the time it takes,
/// writing nothing.
///
/// - Files (`dir:`, `maildir:`, `mbox:`): the source is walked by its own connector, exactly as the export walks it,
///   but message bodies are not read: sizes come from `stat` (an mbox is scanned for its `From ` lines). IMAP: per
///   folder one `UID FETCH 1:* (RFC822.SIZE ...)`, the metadata the export fetches first anyway.
/// - A sample of about `sampleBudget` bytes, items spread evenly over the whole source, is read whole: the time
///   that takes is the source's read rate (for IMAP, the server's and the network's). The sample is then hashed
///   (SHA-256) and compressed as the writer compresses (zstd level 3, frames of 4 MiB): that gives the compression
///   ratio and this machine's processing rate. The estimated rate is the two one after the other; the export
///   overlaps them, so it is usually a little faster. Items larger than `sampleItemCap` give only their start.
/// - Each item also costs a tar header, padding and a manifest line: counted as `overheadPerItem` bytes after
///   compression (an assumption, about what the sample archives in `samples/` show).
public struct ExportEstimator {
    public var source: ConnectorSet
    public var users: [String]
    public var options: ConnectorOptions
    public var sampleBudget: Int64 = 8 << 20
    public static let sampleItemCap = 1 << 20
    public static let overheadPerItem: Int64 = 300

    public init(source: ConnectorSet, users: [String], options: ConnectorOptions = ConnectorOptions()) {
        self.source = source
        self.users = users
        self.options = options
    }

    public func run() throws -> ExportEstimate {
        let (reader, selected) = try Exporter.openSource(source, users: users, options: options, forInventory: true, purpose: "estimate")

        var sampler = Sampler(budget: sampleBudget)
        var found: [ExportEstimate.User] = []
        if let imap = reader as? IMAPSource {
            var folders: [(user: String, sizes: IMAPSource.FolderSizes)] = []
            for user in selected {
                let sizes = try imap.folderSizes(user: user.address)
                folders += sizes.map { (user.address, $0) }
                found.append(ExportEstimate.User(
                    address: user.address,
                    folders: sizes.map { .init(name: $0.path.joined(separator: "/"), messages: $0.messages.count, bytes: $0.messages.reduce(0) { $0 + $1.size }) },
                    messages: sizes.reduce(0) { $0 + $1.messages.count }, messageBytes: sizes.reduce(0) { $0 + $1.messages.reduce(0) { $0 + $1.size } },
                    otherItems: 0, otherBytes: 0))
            }
            try sampleIMAP(imap, folders, &sampler)
        } else {
            for user in selected {
                let sink = SizingSink(sampler: sampler)
                try reader.read(user: user, into: sink)
                sampler = sink.sampler
                found.append(sink.result(address: user.address))
            }
        }
        return try estimate(found, sampler)
    }

    /// Picks every k-th message over all folders so that the sample stays near the budget, then fetches them.
    private func sampleIMAP(_ imap: IMAPSource, _ folders: [(user: String, sizes: IMAPSource.FolderSizes)], _ sampler: inout Sampler) throws {
        let all = folders.flatMap { f in f.sizes.messages.map { (f.user, f.sizes.mailbox, $0.uid, $0.size) } }
        let total = all.reduce(Int64(0)) { $0 + min($1.3, Int64(Self.sampleItemCap)) }
        guard total > 0 else { return }
        // Every stride-th message, so that the sample comes to about the budget.
        let stride = max(1, Int((Double(total) / Double(sampleBudget)).rounded(.up)))
        var picks: [String: [String: [UInt32]]] = [:]
        for (index, pick) in all.enumerated() where index % stride == 0 && pick.3 <= Int64(Self.sampleItemCap) {
            picks[pick.0, default: [:]][pick.1, default: []].append(pick.2)
        }
        for (user, byFolder) in picks.sorted(by: { $0.key < $1.key }) {
            for (mailbox, uids) in byFolder.sorted(by: { $0.key < $1.key }) {
                let started = Date()
                var fetched: [[UInt8]] = []
                try imap.fetchSample(user: user, mailbox: mailbox, uids: uids) { fetched.append($0) }
                let seconds = Date().timeIntervalSince(started)
                for bytes in fetched {
                    // Already chosen to fit the budget: every one is kept (unless the budget is passed after all).
                    sampler.index += 1
                    sampler.keep(bytes, readSeconds: seconds / Double(fetched.count))
                }
            }
        }
    }

    private func estimate(_ users: [ExportEstimate.User], _ sampler: Sampler) throws -> ExportEstimate {
        let items = users.reduce(0) { $0 + $1.messages + $1.otherItems }
        let bytes = users.reduce(Int64(0)) { $0 + $1.messageBytes + $1.otherBytes }
        let samples = sampler.samples.map(\.bytes)
        let sampleBytes = samples.reduce(Int64(0)) { $0 + Int64($1.count) }
        let started = Date()
        let hasher = SHA256()
        for s in samples {
            hasher.update(s)
            _ = hasher.finalizeHex()
        }
        let compressed = try CompressionProbe.compressedSize(of: samples)
        let processSeconds = Date().timeIntervalSince(started)
        let ratio = sampleBytes > 0 ? Double(compressed) / Double(sampleBytes) : 1
        // Reading and processing one after the other; either rate alone when the other could not be measured.
        var secondsPerByte = 0.0
        if sampleBytes > 0 {
            secondsPerByte = (sampler.readSeconds + processSeconds) / Double(sampleBytes)
        }
        let rate = secondsPerByte > 0 ? 1 / secondsPerByte : 0
        let archiveBytes = Int64((Double(bytes) * ratio).rounded()) + Int64(items) * Self.overheadPerItem
        let how = source.listsUsers
            ? "sizes from the files (stat); an mbox is scanned for its messages"
            : "sizes from the server (UID FETCH 1:* RFC822.SIZE per folder)"
        return ExportEstimate(
            source: source.description, users: users, items: items, bytes: bytes,
            sample: .init(items: samples.count, bytes: sampleBytes, compressedBytes: compressed, readSeconds: sampler.readSeconds, processSeconds: processSeconds),
            compressionRatio: ratio, bytesPerSecond: rate, archiveBytes: archiveBytes,
            seconds: rate > 0 ? Double(bytes) / rate : 0,
            method: "\(how); compression and speed measured on \(samples.count) items spread over the source, read whole (up to \(Format.bytes(Int64(Self.sampleItemCap))) each), hashed and compressed as the export does; \(Self.overheadPerItem) B per item for tar header and manifest")
    }

    /// Keeps an evenly spread sample within a budget in one pass over items of unknown number: every item whose
    /// index is a multiple of `stride` is kept; when the kept bytes pass the budget, the stride doubles and the
    /// items off the new stride are dropped.
    struct Sampler {
        let budget: Int64
        var stride = 1
        var index = 0
        var samples: [(index: Int, bytes: [UInt8])] = []
        var kept: Int64 = 0
        var readSeconds = 0.0

        init(budget: Int64) { self.budget = budget }

        /// Whether the next item is to be read (call once per item, then `keep` if true).
        mutating func wantsNext() -> Bool {
            index += 1
            return index % stride == 0
        }

        /// Keeps the item `wantsNext` just agreed to.
        mutating func keep(_ bytes: [UInt8], readSeconds seconds: Double) {
            samples.append((index, bytes))
            kept += Int64(bytes.count)
            readSeconds += seconds
            while kept > budget && samples.count > 1 {
                stride *= 2
                let before = samples.count
                samples.removeAll { $0.index % stride != 0 }
                kept = samples.reduce(0) { $0 + Int64($1.bytes.count) }
                // Keep the read time in proportion to what is kept.
                readSeconds *= Double(samples.count) / Double(before)
            }
        }
    }
}

/// Counts what a file source would give the export, reading the bodies of sampled items only.
private final class SizingSink: MailboxSink {
    var sampler: ExportEstimator.Sampler
    private var folders: [Int: String] = [:]
    private var order: [String] = []
    private var perFolder: [String: (messages: Int, bytes: Int64)] = [:]
    private var otherItems = 0
    private var otherBytes: Int64 = 0

    init(sampler: ExportEstimator.Sampler) { self.sampler = sampler }

    func result(address: String) -> ExportEstimate.User {
        let list = order.map { ExportEstimate.Folder(name: $0, messages: perFolder[$0]!.messages, bytes: perFolder[$0]!.bytes) }
        return ExportEstimate.User(
            address: address, folders: list, messages: list.reduce(0) { $0 + $1.messages },
            messageBytes: list.reduce(0) { $0 + $1.bytes }, otherItems: otherItems, otherBytes: otherBytes)
    }

    func beginUser(_ user: UserInfo) throws {}

    func folder(_ folder: FolderInfo) throws -> Int {
        let name = folder.path.joined(separator: "/")
        folders[folders.count + 1] = name
        if perFolder[name] == nil {
            order.append(name)
            perFolder[name] = (0, 0)
        }
        return folders.count
    }

    func message(_ info: MessageInfo, inFolder folder: Int, body: any ItemBody) throws {
        let name = folders[folder]!
        perFolder[name]!.messages += 1
        perFolder[name]!.bytes += body.byteCount
        try consider(body)
    }

    func addressBook(_ book: AddressBookInfo) throws -> Int { 0 }

    func contact(_ info: ContactInfo, inAddressBook book: Int, body: any ItemBody) throws { try other(body) }

    func calendar(_ calendar: CalendarInfo) throws -> Int { 0 }

    func calendarItem(_ info: CalendarItemInfo, inCalendar calendar: Int, body: any ItemBody) throws { try other(body) }

    func sieveScript(_ info: SieveScriptInfo, body: any ItemBody) throws { try other(body) }

    func endUser(settings: UserSettings) throws {}

    func warning(_ problem: SourceProblem) {}

    private func other(_ body: any ItemBody) throws {
        otherItems += 1
        otherBytes += body.byteCount
        try consider(body)
    }

    private struct Enough: Error {}

    /// Reads the item (its start, when large) into the sample if the sampler wants it.
    private func consider(_ body: any ItemBody) throws {
        guard sampler.wantsNext() else { return }
        let cap = ExportEstimator.sampleItemCap
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(min(body.byteCount, Int64(cap))))
        let started = Date()
        do {
            try body.stream { chunk in
                bytes.append(contentsOf: chunk.prefix(cap - bytes.count))
                if bytes.count >= cap { throw Enough() }
            }
        } catch is Enough {}
        sampler.keep(bytes, readSeconds: Date().timeIntervalSince(started))
    }
}
