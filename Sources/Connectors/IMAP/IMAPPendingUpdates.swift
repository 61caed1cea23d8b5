import IMAPCore
import MailModel

/// The flag changes and moves a delta import has decided and not sent yet, per mailbox, so that they go as a few
/// commands instead of one round trip per message: one `UID STORE <uid-set> FLAGS.SILENT (...)` per mailbox and
/// flag set, one `UID MOVE <uid-set> <destination>` per mailbox and destination (`IMAPUserTarget.flushUpdates`).
/// A UID's later decision replaces its earlier one.
struct IMAPPendingUpdates {
    /// Messages with an update waiting, at most, before they are sent: bounds the memory they take (about 100
    /// bytes each).
    static let limit = 50_000

    struct Move {
        var uid: UInt32
        var key: ItemKey
    }

    /// Per mailbox, the flags each UID is to have (as the delta gives them).
    private var stores: [String: [UInt32: [String]]] = [:]
    /// Per mailbox, where each UID is to go and the item it holds.
    private var moves: [String: [UInt32: (destination: String, key: ItemKey)]] = [:]

    /// Messages with an update waiting.
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    /// The mailboxes with updates waiting, in a fixed order.
    var mailboxes: [String] { Set(stores.keys).union(moves.keys).sorted() }

    mutating func store(_ flags: [String], uid: UInt32, in mailbox: String) {
        if stores[mailbox, default: [:]].updateValue(flags, forKey: uid) == nil, moves[mailbox]?[uid] == nil { count += 1 }
    }

    mutating func move(_ uid: UInt32, holding key: ItemKey, from mailbox: String, to destination: String) {
        if moves[mailbox, default: [:]].updateValue((destination, key), forKey: uid) == nil, stores[mailbox]?[uid] == nil { count += 1 }
    }

    /// The flags a STORE waiting for `uid` in `mailbox` will give it.
    func flags(of uid: UInt32, in mailbox: String) -> [String]? { stores[mailbox]?[uid] }

    /// Takes what waits for `mailbox`: the STOREs first, one per flag set (the same flags in any case and order),
    /// then the moves, one per destination; each in the order of its lowest UID.
    mutating func take(_ mailbox: String) -> (stores: [(flags: [String], uids: [UInt32])], moves: [(destination: String, items: [Move])]) {
        let waitingStores = stores.removeValue(forKey: mailbox) ?? [:]
        let waitingMoves = moves.removeValue(forKey: mailbox) ?? [:]
        count -= Set(waitingStores.keys).union(waitingMoves.keys).count
        var flagSets: [Set<String>: (flags: [String], uids: [UInt32])] = [:]
        for (uid, flags) in waitingStores {
            flagSets[Set(flags.map { $0.lowercased() }), default: (flags, [])].uids.append(uid)
        }
        var destinations: [String: [Move]] = [:]
        for (uid, move) in waitingMoves { destinations[move.destination, default: []].append(Move(uid: uid, key: move.key)) }
        let storeList = flagSets.values.map { (flags: $0.flags, uids: $0.uids.sorted()) }.sorted { $0.uids[0] < $1.uids[0] }
        let moveList = destinations.map { (destination: $0.key, items: $0.value.sorted { $0.uid < $1.uid }) }
            .sorted { $0.items[0].uid < $1.items[0].uid }
        return (storeList, moveList)
    }
}
