import IMAPClient
import MailModel

/// Reads each named user's Sieve scripts from a ManageSieve server (RFC 5804): LISTSCRIPTS, then GETSCRIPT for each,
/// byte for byte, with which one is active. A ManageSieve server holds nothing else, and cannot list its users.
public final class SieveSource: MailboxSource {
    public let access: IMAPServerAccess
    public let userAddresses: [String]

    public init(access: IMAPServerAccess, users: [String]) {
        self.access = access
        userAddresses = users
    }

    public func users() throws -> [UserInfo] { userAddresses.map { UserInfo(address: $0) } }

    public func read(user: UserInfo, into sink: any MailboxSink) throws {
        let connection = try SieveSession.open(access, user: user.address)
        defer { connection.logout() }
        try sink.beginUser(user)
        let origin = "\(SieveSession.name(access)) \(user.address)"
        for script in try connection.listScripts() {
            let bytes = try connection.getScript(script.name)
            try sink.sieveScript(
                SieveScriptInfo(name: script.name, active: script.active),
                body: MemoryBody(bytes, origin: "\(origin) script \(script.name)"))
        }
        try sink.endUser(settings: UserSettings())
    }
}
