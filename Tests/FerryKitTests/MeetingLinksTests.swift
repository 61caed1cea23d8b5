@testable import FerryKit
import MailModel
import Testing

/// An attendee's copy of a meeting is linked to the organizer's event by UID, across the users one reconcile reads.
struct MeetingLinksTests {
    func item(_ name: String, uid: String, organizer: String?) -> CalendarItemInfo {
        CalendarItemInfo(resourceName: name, components: [ComponentSummary(kind: "VEVENT", uid: uid, summary: "S \(uid)", organizer: organizer)])
    }

    @Test func aCopyWhoseOrganizerWasReconciledNeedsTheOrganizersEvent() {
        let links = MeetingLinks()
        links.add(item("a.ics", uid: "m1", organizer: "Alice@example.net"), calendar: "work", owner: "alice@example.net")
        links.add(item("b.ics", uid: "m1", organizer: "alice@example.net"), calendar: "work", owner: "bob@example.com")
        links.add(item("c.ics", uid: "m2", organizer: "alice@example.net"), calendar: "work", owner: "bob@example.com")
        // Organised by someone not reconciled here: not judged.
        links.add(item("d.ics", uid: "m3", organizer: "carol@example.org"), calendar: "work", owner: "bob@example.com")
        // No organizer: not a meeting.
        links.add(item("e.ics", uid: "m4", organizer: nil), calendar: "work", owner: "bob@example.com")
        let unlinked = links.unlinked(reconciled: ["alice@example.net", "bob@example.com"])
        #expect(unlinked.keys.sorted() == ["bob@example.com"])
        #expect(unlinked["bob@example.com"] == [
            "calendar work: c.ics (S m2) is an attendee's copy of a meeting alice@example.net organises (UID m2), and alice@example.net's calendars at the target have no event with that UID",
        ])
        #expect(links.unlinked(reconciled: ["bob@example.com"]).isEmpty, "alice's calendars were not read")
    }
}
