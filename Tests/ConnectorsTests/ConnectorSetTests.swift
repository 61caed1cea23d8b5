import Connectors
import MailModel
import Testing

/// `--source`/`--target` given several times and `--types`: which system carries which kind, what is refused, and
/// how the ledger tells runs apart.
struct ConnectorSetTests {
    let imap = try! ConnectorURL(parsing: "imaps://mail.example.com")
    let dav = try! ConnectorURL(parsing: "davs://dav.example.com/dav/")
    let sieve = try! ConnectorURL(parsing: "sieve://mail.example.com")

    @Test func eachSystemClaimsTheKindsItHolds() throws {
        let set = try ConnectorSet([imap, dav, sieve])
        #expect(set.members.map(\.kinds) == [[.message], [.contact, .calendarItem], [.sieveScript]])
        #expect(set.heldKinds == Set(ItemKind.allCases) && set.excludedKinds.isEmpty)
        #expect(set.description == "imaps://mail.example.com:993 (mail) + davs://dav.example.com:443/dav/ (contacts,calendars) + sieve://mail.example.com:4190 (sieve)")
        #expect(set.ledgerName == "imaps://mail.example.com:993 [mail] + davs://dav.example.com:443/dav/ [contacts,calendars] + sieve://mail.example.com:4190 [sieve]")
        // What concerns mail is the mail member's: IMAP holds CRLF and has earlier placements to find.
        #expect(set.holdsCRLFForm && set.findsEarlierPlacements && !set.holdsMaildirPassed && !set.listsUsers)
        let groupware = try ConnectorSet([dav, sieve])
        #expect(!groupware.holdsCRLFForm && !groupware.findsEarlierPlacements)
    }

    @Test func aSetOfOneIsNamedAsItsURL() throws {
        let one = try ConnectorSet([ConnectorURL(parsing: "dir:/srv/mail")])
        #expect(one == ConnectorSet(try ConnectorURL(parsing: "dir:/srv/mail")))
        #expect(one.ledgerName == "dir:/srv/mail" && one.description == "dir:/srv/mail" && one.single != nil)
        // Narrowed, it is another import for the ledger.
        let mail = try ConnectorSet([ConnectorURL(parsing: "dir:/srv/mail")], types: [.message])
        #expect(mail.ledgerName == "dir:/srv/mail [mail]" && mail.description == "dir:/srv/mail (mail only)")
        #expect(mail.excludedKinds == [.contact, .calendarItem, .sieveScript] && mail.heldKinds == [.message])
    }

    @Test func aKindTwoSystemsHoldOrASystemWithNothingToCarryIsRefused() throws {
        let store = try ConnectorURL(parsing: "dir:/srv/mail")
        #expect { try ConnectorSet([store, dav]) } throws: { "\($0)".contains("calendars would come from both dir:/srv/mail and davs://") }
        #expect { try ConnectorSet([imap, sieve], types: [.message]) } throws: { "\($0)".contains("sieve://mail.example.com:4190 serves none of the types of this run") }
        #expect { try ConnectorSet([imap, imap]) } throws: { "\($0)".contains("named twice") }
        #expect { try ConnectorSet([]) } throws: { _ in true }
        // --types applies to the whole run: narrowed to mail and filters, the DAV server has nothing to carry.
        #expect { try ConnectorSet([store, dav], types: [.message, .sieveScript]) } throws: { "\($0)".contains("davs://dav.example.com:443/dav/ serves none") }
    }

    @Test func typesAreParsedByTheirWords() throws {
        #expect(try ConnectorSet.parseTypes("mail") == [.message])
        #expect(try ConnectorSet.parseTypes("Contacts, calendars,sieve") == [.contact, .calendarItem, .sieveScript])
        #expect { try ConnectorSet.parseTypes("mail,,contacts") } throws: { "\($0)".contains("\"\" is not a type") }
        #expect { try ConnectorSet.parseTypes("notes") } throws: { "\($0)".contains("use mail, contacts, calendars, sieve") }
    }
}
