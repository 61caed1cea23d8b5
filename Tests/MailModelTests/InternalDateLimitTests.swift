import MailModel
import Testing

/// Any signed 64-bit epoch is a valid internal date in an archive (format-spec), so formatting must not trap.
@Suite struct InternalDateLimitTests {
    @Test(arguments: [Int64.max, Int64.min, Int64.max - 60 * 1439, Int64.min + 60 * 1439, (1 << 52) + 1, -(1 << 52) - 1] as [Int64])
    func datesBeyondTheCalendarRangeAreShownAsTheirNumber(_ epoch: Int64) {
        for offset in [nil, 1439, -1439] as [Int16?] {
            #expect(InternalDate(epochSeconds: epoch, nanoseconds: 999_999_999, utcOffsetMinutes: offset).iso8601 == "epoch \(epoch)")
        }
    }

    @Test func theEdgesOfTheCalendarRangeStillFormat() {
        for epoch in [InternalDate.calendarRange.lowerBound, InternalDate.calendarRange.upperBound, 0] {
            for offset in [nil, 1439, -1439] as [Int16?] {
                let text = InternalDate(epochSeconds: epoch, utcOffsetMinutes: offset).iso8601
                #expect(!text.hasPrefix("epoch"), "\(text)")
            }
        }
        #expect(InternalDate(epochSeconds: 0).iso8601 == "1970-01-01T00:00:00Z")
    }
}
