import MailModel
import SystemLayer

/// Delta imports into a ManageSieve server: a script the delta removes is found by its bytes' SHA-256 (its name is
/// not in the key) and deleted, deactivated first when active (RFC 5804 DELETESCRIPT refuses the active script).
/// A ManageSieve server has no folders or messages, so folder and message changes find nothing.
extension SieveUserTarget: DeltaTarget {
    func renameFolder(from: [String], to: [String]) throws -> Bool { false }
    func deleteFolder(_ path: [String]) throws -> Bool { false }
    func updateMessage(key: ItemKey, info: MessageInfo, inFolder folder: Int) throws -> ItemUpdate { .notFound }

    func deleteItem(key: ItemKey, kind: ItemKind) throws -> Bool {
        guard kind == .sieveScript else { return false }
        for (name, active) in present.sorted(by: { $0.key < $1.key }) {
            guard SHA256.hex(try connection.getScript(name)) == key.sha256 else { continue }
            if active { try connection.setActive("") }
            try connection.deleteScript(name)
            present[name] = nil
            return true
        }
        return false
    }
}
