import BufferSpool
import Connectors
import FerryArchive
import Foundation
import PostgresSpool
import Receipts

/// `buffer release`: delivers a user's held mail, in order of arrival, to the migration target once a receipt
/// signed by station B says the target holds everything the archive held; or back to the source (`undo`) once the
/// source's forwarding to the buffer is recorded as removed.
///
/// Guarantees (format-spec/receipt.md, section "Release"):
/// - every message is re-hashed as it is read; a damaged one is never delivered (it stays held and is reported);
/// - `dir:`/`maildir:` targets: exactly once, also across a kill -9 and a second run (the journal plus the target's
///   recognition of the message's key); `lmtp:` targets: at least once, with at most one duplicate per crash;
/// - the user becomes `released` (or `reverted`) only when every held message was delivered.
///
/// The spool is opened exclusively, so while the buffer server runs the job runs inside it, on the server's
/// spool, asked over the control socket (`BufferControl`); otherwise `buffer release` opens the spool itself.
public struct ReleaseJob {
    /// What a release is asked to do: everything but the spool, so the request can travel to a running server.
    /// Paths are absolute, since the server's working directory is not the caller's.
    public struct Parameters: Codable, Hashable, Sendable {
        public var user: String
        public var target: String
        public var receiptPath: String?
        public var trustedKeyPath: String?
        public var archiveID: String?
        public var undo: Bool
        /// Deliver to this address at the target instead of the held one (a renamed user); not for undo.
        public var deliverAs: String?
        /// The asker wants progress lines before the answer (see `BufferControl`); absent in older requests.
        public var reportsProgress: Bool?

        public init(
            user: String, target: String, receiptPath: String?, trustedKeyPath: String?, archiveID: String?, undo: Bool,
            deliverAs: String? = nil
        ) {
            self.deliverAs = deliverAs
            self.user = user
            self.target = target
            self.receiptPath = receiptPath.map(Self.absolute)
            self.trustedKeyPath = trustedKeyPath.map(Self.absolute)
            self.archiveID = archiveID
            self.undo = undo
        }

        static func absolute(_ path: String) -> String {
            path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        }
    }

    /// The `[buffer] spool` value: a directory, or a shared spool's URL.
    public var spoolDirectory: String
    /// A shared spool's password file (`[buffer] spool_password_file`).
    public var spoolPasswordFile: String?
    public var user: String
    public var target: String
    public var receiptPath: String?
    public var trustedKeyPath: String?
    public var archiveID: String?
    public var undo: Bool
    /// The target's address for the user when the migration renames it; nil: the held address.
    public var deliverAs: String?
    /// Called with a line for people after each message (nil: silent).
    public var progress: ((String) -> Void)?
    /// Called with the running counts after each message, for a progress bar.
    public var onProgress: ((ReleaseProgress) -> Void)?
    /// Credentials and the journal for an IMAP target (the buffer configuration's `deliveryOptions`).
    public var deliveryOptions = ConnectorOptions()

    public init(
        spoolDirectory: String, user: String, target: String, receiptPath: String?, trustedKeyPath: String?,
        archiveID: String? = nil, undo: Bool = false, progress: ((String) -> Void)? = nil
    ) {
        self.spoolDirectory = spoolDirectory
        self.user = user
        self.target = target
        self.receiptPath = receiptPath
        self.trustedKeyPath = trustedKeyPath
        self.archiveID = archiveID
        self.undo = undo
        self.progress = progress
    }

    public init(parameters p: Parameters, spoolDirectory: String, progress: ((String) -> Void)? = nil) {
        self.init(
            spoolDirectory: spoolDirectory, user: p.user, target: p.target, receiptPath: p.undo ? nil : p.receiptPath,
            trustedKeyPath: p.trustedKeyPath, archiveID: p.archiveID, undo: p.undo, progress: progress)
        deliverAs = p.undo ? nil : p.deliverAs
    }

    /// The receipt file for the user: `path` itself, or `<path>/<user>.receipt.json` when `path` is a directory.
    public static func receiptFile(_ path: String, user: String) throws -> String {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            return path + "/" + (try Receipt.fileName(for: user))
        }
        return path
    }

    /// Checks the receipt (or, for undo, the forwarding record) without touching the spool's messages (a shared
    /// spool's release state is read from `store`). Returns the archive id.
    public func authorize(on store: (any SpoolStore)? = nil) throws -> String? {
        let stateUser = try (store.map { try ReleaseStateFile.read(spool: $0) }
            ?? ReleaseStateFile.read(spoolDirectory: spoolDirectory))?.users[ReleaseStateFile.key(user)]
        if undo {
            guard stateUser?.forwarding == .off else {
                throw ReleaseError(
                    .forwardingOn,
                    "undo refused: the source's forwarding of \(user)'s mail to the buffer is \(stateUser?.forwarding == .on ? "recorded as on" : "not recorded as removed"); remove it at the source, then run `mailferry buffer forwarding --config FILE --user \(user) --off`, then undo again")
            }
            return nil
        }
        guard let trustedKeyPath else {
            throw ReleaseError(
                .untrusted, "release refused: a receipt must be checked; give station B's public key with --trust KEY")
        }
        guard let receiptPath else {
            throw ReceiptError(.missing, path: "(none)", "was not given: release needs --receipt with station B's receipt for \(user)")
        }
        let key = try PublicKey(pemFile: trustedKeyPath)
        let file = try Self.receiptFile(receiptPath, user: user)
        let receipt = try Receipt.load(file, trust: key)
        var expected = archiveID
        if let pinned = stateUser?.archiveID {
            if let given = archiveID, given != pinned {
                throw ReceiptError(.wrongArchive, path: file, "cannot be checked: --archive-id \(given) differs from archive \(pinned), which \(user)'s release was started with")
            }
            expected = pinned
        }
        try receipt.authorizesRelease(user: user, archiveID: expected, path: file)
        return receipt.archiveID
    }

    /// Runs the release on `openSpool` (the running server's), or on the spool opened here when nil.
    public func run(on openSpool: (any SpoolStore)? = nil) throws -> ReleaseReport {
        let url = try DeliveryTargetURL(parsing: target)
        // A file spool is opened only once the receipt checked; a shared spool holds the release state itself.
        let shared = openSpool.map { $0.localDirectory == nil } ?? PostgresSpoolURL.isURL(spoolDirectory)
        var opened: (any SpoolStore)? = openSpool
        if shared && opened == nil { opened = try Self.openSpool(spoolDirectory, passwordFile: spoolPasswordFile) }
        defer { if openSpool == nil { try? opened?.close() } }
        let archive = try authorize(on: shared ? opened : nil)
        if opened == nil { opened = try Self.openSpool(spoolDirectory, passwordFile: spoolPasswordFile) }
        let spool = opened!
        // One release of a user at a time, across every host sharing the spool: the second is refused, not run.
        guard let report = try spool.exclusively("release " + user, { try run(url: url, archive: archive, spool: spool) })
        else {
            throw ReleaseError(
                .running,
                "release refused: a release or linger pass of \(user) is running now (on this or another host sharing the spool); wait for it to end, then run the command again")
        }
        return report
    }

    private func run(url: DeliveryTargetURL, archive: String?, spool: any SpoolStore) throws -> ReleaseReport {
        guard let status = try spool.status(user: user) else { throw SpoolError.unknownUser(user: user) }

        // Remember the archive and the target address (first release) and get the spool's identity for the
        // delivery keys. A release started for one address is not finished for another.
        let (spoolID, recipient) = try ReleaseStateFile.update(spool: spool) { state -> (String, String) in
            let key = ReleaseStateFile.key(user)
            if let archive { state.users[key, default: .init()].archiveID = archive }
            guard !undo else { return (state.spoolID, user) }
            if let recorded = state.users[key]?.deliverAs, let deliverAs, recorded.lowercased() != deliverAs.lowercased(),
                status.state != .holding
            {
                throw ReleaseError(.conflict, status: .usage, "release refused: \(user)'s release was started to \(recorded), not \(deliverAs)")
            }
            if let deliverAs { state.users[key, default: .init()].deliverAs = deliverAs }
            return (state.spoolID, state.users[key]?.deliverAs ?? user)
        }
        let direction: ReleaseDirection = undo ? .source : .target
        var report = ReleaseReport(user: user, target: url.description, direction: direction, archiveID: archive, state: status.state)
        if status.state == .released || status.state == .reverted || status.state == .closed {
            if status.releaseTarget == ReleaseTarget(direction: direction, address: url.description) {
                // Lingering: pass on whatever arrived since (normally the server already did).
                if status.state.lingers, let passed = try Self.passOn(user: user, spool: spool, options: deliveryOptions) {
                    report.delivered = passed.delivered
                    report.alreadyPresent = passed.alreadyPresent
                    report.failures = passed.failures
                }
                progress?("\(user) is already \(status.state.rawValue) to \(url.description); \(report.delivered) message(s) that arrived since passed on")
                return report
            }
            let recorded = status.releaseTarget.map { " to \($0.address)" } ?? ""
            throw ReleaseError(
                .conflict,
                "release refused: \(user) is already \(status.state.rawValue)\(recorded), not \(undo ? "undone to" : "released to") \(url.description)"
                    + (status.state == .closed
                        ? "; to move the user again, hold it again first (`mailferry buffer hold`)"
                        : "; a user is released once (run the command with the recorded target to pass on mail that arrived since)"))
        }

        let delivery: any DeliveryTarget
        switch url {
        case .mailbox(let connector): delivery = try DeliveryMailbox(url: connector, user: recipient, spoolID: spoolID, options: deliveryOptions)
        case .lmtp(let endpoint): delivery = try DeliveryLMTP(endpoint: endpoint)
        }
        defer { delivery.close() }
        try spool.beginRelease(user: user, to: ReleaseTarget(direction: direction, address: delivery.address))

        var counts = ReleaseProgress(done: 0, total: status.heldCount, bytes: 0, totalBytes: status.heldBytes)
        onProgress?(counts)
        // Mail that arrives while the release runs is held too; a few more rounds deliver it, and a user whose mail
        // keeps coming faster stays releasing, with the reason, for the next run.
        for round in 1...Self.rounds {
            try Self.deliverHeld(user: user, recipient: recipient, spool: spool, delivery: delivery, report: &report, progress: progress) { message in
                counts.done += 1
                counts.bytes += message.size
                onProgress?(counts)
            }
            guard report.failures.isEmpty else {
                report.state = .releasing
                break
            }
            do {
                report.state = try spool.finishRelease(user: user)
                break
            } catch SpoolError.undeliveredMessagesRemain(_, let count) {
                report.state = .releasing
                if round == Self.rounds {
                    report.unfinished = "\(count) message(s) for \(user) arrived during the release and are still held; run the same command again"
                }
            }
        }
        return report
    }

    /// Delivery rounds one run makes before it leaves a user whose mail keeps arriving `releasing`.
    static let rounds = 3

    /// Delivers every message still held for `user`, in arrival order, journalling each attempt; damaged
    /// messages and permanent refusals are reported and stay held. Shared by release and the linger pass.
    static func deliverHeld(
        user: String, recipient: String, spool: any SpoolStore, delivery: any DeliveryTarget, report: inout ReleaseReport,
        progress: ((String) -> Void)?, dealtWith: ((HeldMessage) -> Void)? = nil
    ) throws {
        let unknown = Set(try spool.unknownOutcomes(for: user).filter { $0.target == delivery.address }.map(\.id))
        var after: MessageID?
        while true {
            let page = try spool.heldMessages(for: user, after: after)
            guard let last = page.last else { break }
            after = last.id
            for message in page {
                try spool.markDelivering(message.id, user: user, target: delivery.address)
                do {
                    let wrote = try delivery.deliver(message, user: recipient, from: spool)
                    try spool.markDelivered(message.id, user: user, target: delivery.address)
                    if wrote {
                        report.delivered += 1
                        if unknown.contains(message.id) && !delivery.recognisesDeliveries {
                            report.possiblyDuplicated.append(message.id.rawValue)
                        }
                    } else {
                        report.alreadyPresent += 1
                    }
                    progress?("message \(message.id): \(wrote ? "delivered" : "already at the target")")
                } catch let error as SpoolError {
                    switch error {
                    case .hashMismatch, .fileMissing:
                        // Damaged mail is never delivered; it stays held (journal: delivering) and is reported.
                        report.failures.append(.init(message: message.id.rawValue, reason: error.description))
                        progress?("message \(message.id): NOT delivered: \(error)")
                    default: throw error
                    }
                } catch let error as LMTPClientError where error.isPermanent {
                    report.failures.append(.init(message: message.id.rawValue, reason: error.description))
                    progress?("message \(message.id): NOT delivered: \(error)")
                }
                dealtWith?(message)
            }
        }
    }

    /// The linger pass: for a released (or reverted) user, passes mail that arrived after the release on to
    /// the recorded target. No receipt is needed: it was checked when the release began. Nil when the user
    /// does not linger.
    public static func passOn(user: String, spool: any SpoolStore, options: ConnectorOptions) throws -> ReleaseReport? {
        guard let status = try spool.status(user: user), status.state.lingers, let recorded = status.releaseTarget else {
            return nil
        }
        let url = try DeliveryTargetURL(parsing: recorded.address)
        let (spoolID, recipient) = try ReleaseStateFile.update(spool: spool) { state in
            (state.spoolID, recorded.direction == .target ? state.users[ReleaseStateFile.key(user)]?.deliverAs ?? user : user)
        }
        let delivery: any DeliveryTarget
        switch url {
        case .mailbox(let connector): delivery = try DeliveryMailbox(url: connector, user: recipient, spoolID: spoolID, options: options)
        case .lmtp(let endpoint): delivery = try DeliveryLMTP(endpoint: endpoint)
        }
        defer { delivery.close() }
        var report = ReleaseReport(user: user, target: url.description, direction: recorded.direction, archiveID: nil, state: status.state)
        try deliverHeld(user: user, recipient: recipient, spool: spool, delivery: delivery, report: &report, progress: nil)
        return report
    }

    /// `buffer forwarding --on|--off`: records whether the source still forwards the user's mail to the buffer.
    public static func recordForwarding(spoolDirectory: String, passwordFile: String? = nil, user: String, on: Bool) throws {
        let change = { (state: inout ReleaseStateFile) in
            var record = state.users[ReleaseStateFile.key(user)] ?? .init()
            record.forwarding = on ? .on : .off
            record.forwardingChanged = ISO8601DateFormatter().string(from: Date())
            state.users[ReleaseStateFile.key(user)] = record
        }
        if PostgresSpoolURL.isURL(spoolDirectory) {
            let spool = try openSpool(spoolDirectory, passwordFile: passwordFile)
            defer { try? spool.close() }
            try ReleaseStateFile.update(spool: spool, change)
        } else {
            try ReleaseStateFile.update(spoolDirectory: spoolDirectory, change)
        }
    }

    /// `buffer close`: released or reverted → closed.
    public static func close(spoolDirectory: String, passwordFile: String? = nil, user: String) throws {
        let spool = try openSpool(spoolDirectory, passwordFile: passwordFile)
        defer { try? spool.close() }
        try spool.close(user: user)
    }

    /// Opens the spool exclusively (when no server runs); a spool locked by a server that did not answer on its
    /// control socket is reported as busy.
    static func openSpool(_ directory: String, passwordFile: String?) throws -> any SpoolStore {
        do {
            return try SpoolStores.open(directory, passwordFile: passwordFile)
        } catch SpoolError.locked(let path) {
            throw ReleaseError(
                .spoolBusy, status: .ioError,
                "the spool \(directory) is in use (lock \(path) is held), most likely by a `mailferry buffer serve` that does not answer on its control socket: check that it is running and of this version, or stop it and run the release again")
        }
    }
}
