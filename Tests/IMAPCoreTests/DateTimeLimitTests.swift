import IMAPCore
import MailModel
import Testing

/// An APPEND date from an archive may be any Int64 epoch: the encoder must give a string, never trap.
@Suite struct DateTimeLimitTests {
    @Test(arguments: [Int64.max, Int64.min, Int64.max - 1, Int64.min + 1])
    func extremeDatesEncodeWithoutTrapping(_ epoch: Int64) {
        for offset in [nil, 1439, -1439] as [Int16?] {
            let text = IMAPCommandEncoder.dateTime(InternalDate(epochSeconds: epoch, utcOffsetMinutes: offset))
            #expect(text.count > 20, "\(text)")
        }
    }
}
