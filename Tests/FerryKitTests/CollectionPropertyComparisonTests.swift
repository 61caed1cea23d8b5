@testable import FerryKit
import MailModel
import Reporting
import Testing

/// An address book's or calendar's own properties at the target against the archive's.
struct CollectionPropertyComparisonTests {
    func outcomes(_ lines: [ReconcileReport.FolderProperty]) -> [String: String] {
        Dictionary(uniqueKeysWithValues: lines.map { ($0.property.rawValue, $0.outcome.rawValue) })
    }

    @Test func equalValuesMatchInTheirOwnTerms() {
        let zone = "BEGIN:VCALENDAR\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nEND:VTIMEZONE\r\nEND:VCALENDAR\r\n"
        let archived = CalendarInfo(name: "work", displayName: "Arbeit", description: "Büro", color: "#ff8800", timeZone: zone, components: ["VEVENT", "VTODO"])
        // Another serialisation of the same zone, the alpha spelled out, the components in another order.
        let held = CalendarInfo(name: "work", displayName: "Arbeit", description: "Büro", color: "#FF8800FF",
                                timeZone: "BEGIN:VCALENDAR\nPRODID:x\nBEGIN:VTIMEZONE\nTZID:Europe/Berlin\nEND:VTIMEZONE\nEND:VCALENDAR\n", components: ["vtodo", "VEVENT"])
        let lines = CollectionPropertyComparison(archived: archived, target: held).properties
        #expect(outcomes(lines) == ["displayName": "match", "description": "match", "color": "match", "timeZone": "match", "components": "match"])
        #expect(lines.first { $0.property == .timeZone }?.archive == "Europe/Berlin")
    }

    @Test func aMissingPropertyIsNotHeldAnotherValueDiffersAndMoreComponentsAreExtra() {
        let archived = CalendarInfo(name: "work", displayName: "Arbeit", description: "Büro", color: "#FF8800", components: ["VEVENT"])
        let held = CalendarInfo(name: "work", displayName: "Freizeit", description: nil, color: "#0088FF", components: ["VEVENT", "VTODO", "VJOURNAL"])
        let lines = CollectionPropertyComparison(archived: archived, target: held).properties
        #expect(outcomes(lines) == ["displayName": "different", "description": "notHeld", "color": "different", "components": "extra"])
        #expect(lines.first { $0.property == .displayName }?.description == "display name: Arbeit in the archive, Freizeit at the target")
        let fewer = CollectionPropertyComparison(
            archived: CalendarInfo(name: "t", components: ["VEVENT", "VTODO"]), target: CalendarInfo(name: "t", components: ["VEVENT"])).properties
        #expect(outcomes(fewer) == ["components": "different"])
    }

    @Test func whatTheArchiveDoesNotHaveIsNotCompared() {
        // A dir: source carries no collection properties: nothing to compare, whatever the target shows.
        let lines = CollectionPropertyComparison(
            archived: AddressBookInfo(name: "contacts"), target: AddressBookInfo(name: "contacts", displayName: "Kontakte")).properties
        #expect(lines.isEmpty)
        let book = CollectionPropertyComparison(
            archived: AddressBookInfo(name: "c", displayName: "Kontakte", description: "Freunde"),
            target: AddressBookInfo(name: "c", displayName: "Kontakte", description: "Freunde")).properties
        #expect(outcomes(book) == ["displayName": "match", "description": "match"])
    }
}
