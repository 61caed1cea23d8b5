import Connectors
import Foundation
import MailModel
import Reporting
import Testing

@testable import FerryKit

/// The rules of comparing a folder's ACL, subscription and special use, on values alone; the suites in
/// MailFerryCLITests run the same through real servers.
@Suite struct FolderPropertyComparisonTests {
    typealias Property = ReconcileReport.FolderProperty

    func compare(
        _ archived: FolderInfo, _ target: FolderInfo, support: FolderPropertySupport = .all, uses: Set<String> = []
    ) -> [Property.Property: Property] {
        let lines = FolderPropertyComparison(
            archived: archived, target: target, support: support, owner: "alice@example.com", targetSpecialUses: uses
        ).properties
        return Dictionary(lines.map { ($0.property, $0) }, uniquingKeysWith: { a, _ in a })
    }

    @Test func rightsAreSetsAndTheOwnersOwnEntryCountsOnlyWhenTheArchiveHasOne() {
        let archived = FolderInfo(path: ["Team"], acl: [ACLEntry(identifier: "bob@example.com", rights: "lrs")])
        let target = FolderInfo(path: ["Team"], acl: [
            ACLEntry(identifier: "bob@example.com", rights: "srl"), ACLEntry(identifier: "alice@example.com", rights: "lrwstipekxacd"),
        ])
        #expect(compare(archived, target)[.acl]?.outcome == .match)
        #expect(compare(archived, target)[.acl]?.target == "bob@example.com lrs")

        var owned = archived
        owned.acl.append(ACLEntry(identifier: "alice@example.com", rights: "lr"))
        let differs = compare(owned, target)[.acl]
        #expect(differs?.outcome == .different)
        #expect(differs?.archive == "alice@example.com lr; bob@example.com lrs")
        #expect(differs?.target == "alice@example.com acdeiklprstwx; bob@example.com lrs")

        // Someone the archive does not name has access at the target: a difference.
        var more = target
        more.acl.append(ACLEntry(identifier: "mallory@example.com", rights: "l"))
        #expect(compare(archived, more)[.acl]?.outcome == .different)
    }

    @Test func aSubscriptionOnlyAtTheTargetIsExtraAndOneMissingThereIsADifference() {
        let subscribed = FolderInfo(path: ["Lists"], subscribed: true)
        let not = FolderInfo(path: ["Lists"], subscribed: false)
        #expect(compare(subscribed, subscribed)[.subscribed]?.outcome == .match)
        #expect(compare(subscribed, not)[.subscribed]?.outcome == .different)
        let extra = compare(not, subscribed)[.subscribed]
        #expect(extra?.outcome == .extra && extra?.reason != nil)
    }

    @Test func specialUseMatchesUnderTheTargetsNameAndIsNotHeldWhereTheTargetHasNoSuchFolder() {
        // The archive's "Sent Items" held in the target's own Sent: a match, with the archive's folder named.
        let sent = compare(
            FolderInfo(path: ["Sent Items"], specialUse: "\\Sent"), FolderInfo(path: ["Sent"], specialUse: "\\sent"),
            uses: ["\\sent"])
        #expect(sent[.specialUse]?.outcome == .match)
        #expect(sent[.specialUse]?.archiveFolder == "Sent Items" && sent[.subscribed]?.archiveFolder == "Sent Items")

        let noSuchFolder = compare(FolderInfo(path: ["Archive"], specialUse: "\\Archive"), FolderInfo(path: ["Archive"]), uses: ["\\sent"])
        #expect(noSuchFolder[.specialUse]?.outcome == .notHeld)
        #expect(noSuchFolder[.specialUse]?.reason?.contains("no \\Archive folder") == true)

        let elsewhere = compare(FolderInfo(path: ["Archive"], specialUse: "\\Archive"), FolderInfo(path: ["Archive"]), uses: ["\\archive"])
        #expect(elsewhere[.specialUse]?.outcome == .different)

        let own = compare(FolderInfo(path: ["Trash"]), FolderInfo(path: ["Trash"], specialUse: "\\Trash"), uses: ["\\trash"])
        #expect(own[.specialUse]?.outcome == .extra)

        // The inbox is the inbox by name: no special use compared (a Maildir source calls it \Inbox, IMAP nothing).
        #expect(compare(FolderInfo(path: ["INBOX"], specialUse: "\\Inbox"), FolderInfo(path: ["INBOX"]))[.specialUse] == nil)
    }

    @Test func whatAMaildirCannotHoldIsListedOnlyWhereTheArchiveHasIt() {
        let maildir = ConnectorURL.maildir("/x").folderPropertySupport
        let withACL = compare(
            FolderInfo(path: ["Team"], specialUse: "\\Archive", subscribed: true, acl: [ACLEntry(identifier: "bob@example.com", rights: "lr")]),
            FolderInfo(path: ["Team"], subscribed: true), support: maildir)
        #expect(withACL[.acl]?.outcome == .notHeld && withACL[.acl]?.target == nil)
        #expect(withACL[.acl]?.reason?.contains("Maildir") == true)
        #expect(withACL[.specialUse]?.outcome == .notHeld)
        #expect(withACL[.subscribed]?.outcome == .match)

        let plain = compare(FolderInfo(path: ["Team"]), FolderInfo(path: ["Team"]), support: maildir)
        #expect(plain[.acl] == nil && plain[.specialUse] == nil && plain[.subscribed]?.outcome == .match)
    }

    @Test func aServerWithoutTheACLExtensionHoldsNoACL() {
        let support = FolderPropertySupport(acl: .notHeld(reason: "the server does not offer the ACL extension (RFC 4314)"), subscriptions: .held, specialUse: .held)
        let lines = compare(FolderInfo(path: ["Team"], acl: [ACLEntry(identifier: "bob@example.com", rights: "lr")]), FolderInfo(path: ["Team"]), support: support)
        #expect(lines[.acl]?.outcome == .notHeld && lines[.acl]?.reason?.contains("ACL extension") == true)
    }

    @Test func reportsWithoutFolderPropertiesStillDecode() throws {
        let old = """
            {"kind":"folder","name":"INBOX","archiveItems":1,"archiveBytes":10,"matched":1,"extra":0,"missing":[],"mismatched":[],"refused":[]}
            """
        let container = try JSONDecoder().decode(ReconcileReport.ContainerReport.self, from: Data(old.utf8))
        #expect(container.folderProperties == nil && !container.propertiesDiffer)
    }
}
