import MailModel
import Reporting

/// Compares one archived folder's own properties (ACL, subscription, special use) with the target's folder that
/// holds it, as far as the target can hold each (`FolderPropertySupport`). The archived folder comes with the user
/// mapping applied (`UserMapping.rewritingACL`, the rewrite the import made). Pure: values in, report lines out.
struct FolderPropertyComparison {
    /// The archive's folder after the user mapping.
    var archived: FolderInfo
    /// The target's folder as read back.
    var target: FolderInfo
    var support: FolderPropertySupport
    /// The user's login at the target: a server lists the owner's own rights in every ACL (Dovecot does), which
    /// the archive need not hold.
    var owner: String
    /// The special uses (lowercased) some folder of the target has.
    var targetSpecialUses: Set<String>

    /// One line per property compared, or not held where the archive has something the target cannot keep.
    var properties: [ReconcileReport.FolderProperty] {
        var lines = [acl, subscription, specialUse].compactMap { $0 }
        if archived.path != target.path && !(archived.isInbox && target.isInbox) {
            for index in lines.indices { lines[index].archiveFolder = archived.displayName }
        }
        return lines
    }

    /// Identifier to rights letters (a set), the owner's entry left out at the target when the archive has none.
    private var acl: ReconcileReport.FolderProperty? {
        let archivedRights = Self.rights(archived.acl)
        guard case .held = support.acl else {
            guard !archivedRights.isEmpty, case .notHeld(let reason) = support.acl else { return nil }
            return .init(
                property: .acl, outcome: .notHeld, archive: Self.text(archivedRights), target: nil, reason: reason)
        }
        var targetRights = Self.rights(target.acl)
        let ownsImplicitly = !archivedRights.keys.contains { $0.lowercased() == owner.lowercased() }
        if ownsImplicitly {
            for identifier in targetRights.keys where identifier.lowercased() == owner.lowercased() {
                targetRights[identifier] = nil
            }
        }
        return .init(
            property: .acl, outcome: archivedRights == targetRights ? .match : .different,
            archive: Self.text(archivedRights), target: Self.text(targetRights))
    }

    private var subscription: ReconcileReport.FolderProperty? {
        let archive = Self.text(subscribed: archived.subscribed)
        guard case .held = support.subscriptions else {
            guard archived.subscribed, case .notHeld(let reason) = support.subscriptions else { return nil }
            return .init(property: .subscribed, outcome: .notHeld, archive: archive, target: nil, reason: reason)
        }
        let held = Self.text(subscribed: target.subscribed)
        switch (archived.subscribed, target.subscribed) {
        case (true, false):
            return .init(property: .subscribed, outcome: .different, archive: archive, target: held)
        case (false, true):
            return .init(
                property: .subscribed, outcome: .extra, archive: archive, target: held,
                reason: "subscribed at the target only: an import adds subscriptions and takes none away")
        default:
            return .init(property: .subscribed, outcome: .match, archive: archive, target: held)
        }
    }

    /// The inbox is the inbox by its name everywhere; its special use is not compared.
    private var specialUse: ReconcileReport.FolderProperty? {
        guard !archived.isInbox else { return nil }
        let use = archived.specialUse
        let archive = use ?? "none"
        guard case .held = support.specialUse else {
            guard use != nil, case .notHeld(let reason) = support.specialUse else { return nil }
            return .init(property: .specialUse, outcome: .notHeld, archive: archive, target: nil, reason: reason)
        }
        let held = target.specialUse ?? "none"
        switch (use?.lowercased(), target.specialUse?.lowercased()) {
        case (nil, nil):
            return .init(property: .specialUse, outcome: .match, archive: archive, target: held)
        case (nil, _):
            return .init(
                property: .specialUse, outcome: .extra, archive: archive, target: held,
                reason: "the target marks this folder itself")
        case (let a?, let t) where a == t:
            return .init(property: .specialUse, outcome: .match, archive: archive, target: held)
        case (let a?, _) where !targetSpecialUses.contains(a):
            return .init(
                property: .specialUse, outcome: .notHeld, archive: archive, target: nil,
                reason: "the target has no \(archive) folder, and a client cannot mark one (the server marks its own)")
        default:
            return .init(property: .specialUse, outcome: .different, archive: archive, target: held)
        }
    }

    private static func rights(_ entries: [ACLEntry]) -> [String: Set<Character>] {
        var rights: [String: Set<Character>] = [:]
        for entry in entries { rights[entry.identifier] = Set(entry.rights) }
        return rights
    }

    /// `alice@example.com acdeiklprstwx; bob@example.com lrs`, sorted, or `none`.
    private static func text(_ rights: [String: Set<Character>]) -> String {
        guard !rights.isEmpty else { return "none" }
        let pairs = rights.sorted { $0.key < $1.key }.map { "\($0.key) \(String($0.value.sorted()))" }
        return pairs.joined(separator: "; ")
    }

    private static func text(subscribed: Bool) -> String { subscribed ? "subscribed" : "not subscribed" }
}
