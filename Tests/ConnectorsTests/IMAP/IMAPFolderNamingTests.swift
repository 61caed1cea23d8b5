import Connectors
import Testing

struct IMAPFolderNamingTests {
    @Test func pathsAndNamesRoundTripUnderAPrefix() {
        let naming = IMAPFolderNaming(prefix: "INBOX.", separator: ".")
        #expect(naming.mailboxName(for: ["Archive", "2019"]).name == "INBOX.Archive.2019")
        #expect(naming.path(ofMailbox: "INBOX.Archive.2019") == ["Archive", "2019"])
        #expect(naming.mailboxName(for: ["inbox"]).name == "INBOX")
        #expect(naming.path(ofMailbox: "Inbox") == ["INBOX"])
        #expect(naming.parents(of: "INBOX.Archive.2019.Q1") == ["INBOX.Archive", "INBOX.Archive.2019"])
    }

    @Test func childrenOfInboxStayUnderInbox() {
        let naming = IMAPFolderNaming(prefix: "", separator: "/")
        #expect(naming.mailboxName(for: ["INBOX", "Receipts"]).name == "INBOX/Receipts")
        #expect(naming.path(ofMailbox: "inbox/Receipts") == ["INBOX", "Receipts"])
        #expect(naming.parents(of: "a/b/c") == ["a", "a/b"])
    }

    @Test func aComponentHoldingTheSeparatorIsChangedAndSaysSo() {
        let naming = IMAPFolderNaming(prefix: "", separator: ".")
        let result = naming.mailboxName(for: ["v1.2 notes", "Réunions"])
        #expect(result.name == "v1_2 notes.Réunions")
        #expect(result.altered)
        #expect(!naming.mailboxName(for: ["plain", "日本語"]).altered)
    }
}
