import FerryArchive
import FerryKit
import MailModel
import Testing

@Suite struct UserMappingTests {
    @Test func csvFieldsMayBeQuotedAndTheTargetMayBeLeftOut() throws {
        let users = try MigrationUsersFile.parse(
            "source,target,group\r\n# a comment\n\n\"c.smith@abc.com\",\"c_smith@abc.com\",\"Sales, North\"\nd@abc.com,,\n  e@abc.com , e@new.org \n",
            path: "u.csv")
        #expect(users == [
            MigrationUser(source: "c.smith@abc.com", target: "c_smith@abc.com", group: "Sales, North"),
            MigrationUser(source: "d@abc.com", target: "d@abc.com"),
            MigrationUser(source: "e@abc.com", target: "e@new.org"),
        ])
        #expect(throws: FerryError.self) { try MigrationUsersFile.parse("a@x.org,b@y.org,g,extra\n", path: "u.csv") }
        #expect(throws: FerryError.self) { try MigrationUsersFile.parse("@x.org\n", path: "u.csv") }
    }

    @Test func aclIdentifiersOfRenamedUsersAreRewrittenAndListed() {
        let mapping = UserMapping([("C.Smith@abc.com", "c_smith@abc.com"), ("d@abc.com", "d@abc.com")])
        #expect(mapping.target(for: "c.smith@ABC.com") == "c_smith@abc.com")
        #expect(mapping.target(for: "x@abc.com") == "x@abc.com")
        let folder = FolderInfo(
            path: ["Shared", "Team"], separator: "/",
            acl: [ACLEntry(identifier: "c.smith@abc.com", rights: "lrs"), ACLEntry(identifier: "anyone", rights: "l"),
                  ACLEntry(identifier: "d@abc.com", rights: "lrswi")])
        let (rewritten, notes) = mapping.rewritingACL(of: folder, user: "d@abc.com")
        #expect(rewritten.acl.map(\.identifier) == ["c_smith@abc.com", "anyone", "d@abc.com"])
        #expect(rewritten.acl.map(\.rights) == ["lrs", "l", "lrswi"])
        #expect(notes == ["d@abc.com folder Shared/Team: ACL identifier c.smith@abc.com is c_smith@abc.com at the target"])
    }
}
