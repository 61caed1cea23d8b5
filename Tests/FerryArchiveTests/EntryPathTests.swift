import Testing
@testable import FerryArchive

@Suite struct EntryPathTests {
    @Test(arguments: [
        "u/1/m/1/1.eml", "u/2/m/3/45.eml", "u/1/c/1/1.vcf", "u/7/k/2/9.ics", "u/1/s/1.sieve",
        "u/999999999/m/999999999/999999999.eml", "u/10/m/20/30.eml",
    ])
    func acceptsSyntheticItemNames(_ path: String) {
        #expect(EntryPath.isItemPath(path))
    }

    @Test func theBuildersMakeNamesItAccepts() {
        #expect(EntryPath.isItemPath(EntryPath.message(user: 1, folder: 2, sequence: 3)))
        #expect(EntryPath.isItemPath(EntryPath.contact(user: 4, book: 5, sequence: 6)))
        #expect(EntryPath.isItemPath(EntryPath.calendarItem(user: 7, calendar: 8, sequence: 9)))
        #expect(EntryPath.isItemPath(EntryPath.sieve(user: 10, sequence: 11)))
        #expect(EntryPath.message(user: 1, folder: 2, sequence: 3) == "u/1/m/2/3.eml")
    }

    @Test func itemNamesGiveTheirParts() {
        #expect(EntryPath.item("u/12/m/3/45.eml") == .init(user: 12, kind: .message, container: 3, sequence: 45))
        #expect(EntryPath.item("u/1/c/999999999/7.vcf") == .init(user: 1, kind: .contact, container: 999_999_999, sequence: 7))
        #expect(EntryPath.item("u/7/k/2/9.ics") == .init(user: 7, kind: .calendarItem, container: 2, sequence: 9))
        #expect(EntryPath.item("u/10/s/11.sieve") == .init(user: 10, kind: .sieveScript, container: nil, sequence: 11))
        #expect(EntryPath.item(EntryPath.manifest) == nil)
    }

    @Test(arguments: [
        // Escapes and absolute names.
        "../evil.eml", "/etc/passwd", "u/1/m/1/../../x.eml", "/u/1/m/1/1.eml", "u/1/m/1/./1.eml", "u/1/m/../1.eml",
        // Not the synthetic form.
        "notes.txt", "", "u", "u/", "u/1", "u/1/m", "u/1/m/1", "u/1/m/1/", "u/1/m/1/1.eml/", "u//m/1/1.eml",
        "u/1/m/1//1.eml", "U/1/m/1/1.eml", "x/1/m/1/1.eml", "u/1/x/1/1.eml", "u/1/m/1/1/1.eml",
        // Numbers: zero, leading zeros, signs, too long, non-ASCII digits, spaces.
        "u/0/m/1/1.eml", "u/1/m/0/1.eml", "u/1/m/1/0.eml", "u/01/m/1/1.eml", "u/1/m/01/1.eml", "u/1/m/1/01.eml",
        "u/+1/m/1/1.eml", "u/-1/m/1/1.eml", "u/1000000000/m/1/1.eml", "u/1/m/1/1000000000.eml", "u/١/m/1/1.eml",
        "u/ 1/m/1/1.eml", "u/1/m/1/1.eml ", "u/1/m/1/.eml", "u/1/m/1/x.eml", "u/0x1/m/1/1.eml",
        // Extensions that do not go with the kind, or none.
        "u/1/m/1/1.vcf", "u/1/c/1/1.eml", "u/1/k/1/1.vcf", "u/1/s/1.eml", "u/1/m/1/1", "u/1/m/1/1.EML", "u/1/m/1/1.eml.gz",
        "u/1/s/1/1.sieve", "u/1/s/1.sieve/x", "u/1/m/1.eml",
        // Control entries are not items; NUL and newline do not hide a valid prefix.
        EntryPath.manifest, EntryPath.statement, EntryPath.signature, "u/1/m/1/1.eml\0", "u/1/m/1/1.eml\n",
    ])
    func refusesEverythingElse(_ path: String) {
        #expect(!EntryPath.isItemPath(path))
    }
}
