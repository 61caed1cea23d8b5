import FerryArchive

/// The users of several archives taken as one, the volumes of a volume set: a user that spans volumes is listed
/// again in each (format-spec 13.1), under its own number there. `Reconciler` and `IdentityMapWriter` work per user
/// over all of them.
enum UsersAcrossArchives {
    /// One user: its record in each archive that holds it and selects it, in archive order.
    typealias Holding = [(part: Int, record: UserRecord)]

    /// Every user selected in `archives` (each archive's manifest and its user numbers taken), by address ignoring
    /// case, in the order the archives first list them.
    static func group(_ archives: [(manifest: VerifiedManifest, users: Set<Int>)]) -> [Holding] {
        var order: [String] = []
        var holding: [String: Holding] = [:]
        for (index, archive) in archives.enumerated() {
            for user in archive.manifest.users where archive.users.contains(user.user) {
                let key = user.address.lowercased()
                if holding[key] == nil { order.append(key) }
                holding[key, default: []].append((index, user))
            }
        }
        return order.map { holding[$0]! }
    }
}
