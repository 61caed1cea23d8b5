import Testing
@testable import MailModel

@Suite struct ICalendarCodecTests {
    /// After the RFC 5545 section 4 examples: a time zone, an event with an alarm, a task.
    static let calendar = """
        BEGIN:VCALENDAR\r
        PRODID:-//MailFerry//Tests//EN\r
        VERSION:2.0\r
        BEGIN:VTIMEZONE\r
        TZID:Europe/Berlin\r
        BEGIN:STANDARD\r
        DTSTART:19701025T030000\r
        TZOFFSETFROM:+0200\r
        TZOFFSETTO:+0100\r
        END:STANDARD\r
        END:VTIMEZONE\r
        BEGIN:VEVENT\r
        UID:19970901T130000Z-123401@example.com\r
        DTSTAMP:19970901T130000Z\r
        DTSTART;TZID=Europe/Berlin:19970903T163000\r
        SUMMARY:Annual Employee Review\\, with cake\\; bring\r
          a fork\r
        BEGIN:VALARM\r
        ACTION:DISPLAY\r
        UID:alarm-uid\r
        SUMMARY:alarm text\r
        TRIGGER:-PT15M\r
        END:VALARM\r
        END:VEVENT\r
        BEGIN:VTODO\r
        summary:Submit Income Taxes\r
        uid:20070313T123432Z-456553@example.com\r
        END:VTODO\r
        END:VCALENDAR\r

        """

    @Test func listsTopLevelComponentsOnly() {
        let (components, problems) = ICalendarCodec.summarize(Array(Self.calendar.utf8))
        #expect(problems.isEmpty)
        #expect(components == [
            ComponentSummary(
                kind: "VEVENT", uid: "19970901T130000Z-123401@example.com",
                summary: "Annual Employee Review, with cake; bring a fork"),
            ComponentSummary(kind: "VTODO", uid: "20070313T123432Z-456553@example.com", summary: "Submit Income Taxes"),
        ])
    }

    @Test func theOrganizersAddressIsTakenFromItsMailtoURI() {
        let text = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:m-1\r\nORGANIZER;CN=\"Alice, A.\":MAILTO:alice@example.com\r\n"
            + "ATTENDEE:mailto:bob@example.com\r\nBEGIN:VALARM\r\nORGANIZER:mailto:alarm@example.com\r\nEND:VALARM\r\nEND:VEVENT\r\n"
            + "BEGIN:VEVENT\r\nUID:m-2\r\nORGANIZER:urn:uuid:not-an-address\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        let (components, problems) = ICalendarCodec.summarize(Array(text.utf8))
        #expect(problems.isEmpty)
        #expect(components.map(\.organizer) == ["alice@example.com", nil])
    }

    @Test func missingEndsAreReportedWithLines() {
        let text = "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:1\nBEGIN:VALARM\nEND:VEVENT\nBEGIN:VTODO\nUID:2\n"
        let (components, problems) = ICalendarCodec.summarize(Array(text.utf8))
        #expect(components.map(\.uid) == ["1", "2"])
        #expect(problems == [
            "line 4: BEGIN:VALARM without END:VALARM (END:VEVENT at line 5 closes the enclosing component)",
            "line 6: BEGIN:VTODO without END:VTODO",
            "line 1: BEGIN:VCALENDAR without END:VCALENDAR",
        ])
    }

    @Test func strayEndAndNoCalendar() {
        let (components, problems) = ICalendarCodec.summarize(Array("BEGIN:VEVENT\nEND:VEVENT\nEND:VTODO\n".utf8))
        #expect(components.isEmpty)
        #expect(problems == [
            "line 1: BEGIN:VEVENT outside BEGIN:VCALENDAR ... END:VCALENDAR",
            "line 3: END:VTODO without BEGIN:VTODO",
            "no BEGIN:VCALENDAR found",
        ])
    }

    @Test func severalCalendarsInOneFile() {
        let one = "BEGIN:VCALENDAR\nBEGIN:VJOURNAL\nUID:j\nEND:VJOURNAL\nEND:VCALENDAR\n"
        let two = "BEGIN:VCALENDAR\nBEGIN:VFREEBUSY\nUID:f\nEND:VFREEBUSY\nEND:VCALENDAR\n"
        let (components, problems) = ICalendarCodec.summarize(Array((one + two).utf8))
        #expect(problems.isEmpty)
        #expect(components.map(\.kind) == ["VJOURNAL", "VFREEBUSY"])
    }
}
