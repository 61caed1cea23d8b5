import Foundation
import Reporting
import Synchronization
import Testing

/// What the progress display says, from given counts and times (no clock involved), and when it prints.
@Suite struct ProgressReporterTests {
    typealias Status = ProgressReporter.Status

    @Test func withATotalTheBarShowsShareItemsBytesRateAndTimeLeft() {
        let s = Status(label: "import", items: 250, bytes: 25_000_000, totalItems: 1000, totalBytes: 100_000_000, elapsed: 10)
        #expect(s.fraction == 0.25)
        #expect(s.secondsLeft == 30)
        let line = s.barLine(width: 120)
        #expect(line.hasPrefix("import [#######-----------------------]  25%  250/1000 items  25.0 MB/100.0 MB  2.5 MB/s  30 s left"), "\(line)")
        #expect(s.plainLine == "import: 25%, 250/1000 items, 25.0 MB/100.0 MB, 2.5 MB/s, about 30 s left")
        #expect(s.finalLine == "import: 250 items, 25.0 MB, 2.5 MB/s, 10.0 s")
    }

    @Test func theShareFollowsBytesWhenTheirTotalIsKnownAndItemsOtherwise() {
        let byBytes = Status(label: "v", items: 1, bytes: 75, totalItems: 10, totalBytes: 100, elapsed: 3)
        #expect(byBytes.fraction == 0.75)
        #expect(byBytes.secondsLeft == 1)
        let byItems = Status(label: "v", items: 2, bytes: 75, totalItems: 10, totalBytes: nil, elapsed: 4)
        #expect(byItems.fraction == 0.2)
        #expect(byItems.secondsLeft == 16)
        let unknown = Status(label: "export", items: 2, bytes: 75, totalItems: nil, totalBytes: nil, elapsed: 4)
        #expect(unknown.fraction == nil && unknown.secondsLeft == nil)
        #expect(unknown.barLine(width: 80) == "export  2 items  75 B  18 B/s  4 s")
        #expect(unknown.plainLine == "export: 2 items, 75 B, 18 B/s")
        let nothingToDo = Status(label: "release", items: 0, bytes: 0, totalItems: 0, totalBytes: 0, elapsed: 1)
        #expect(nothingToDo.fraction == 1)
        #expect(Format.duration(3725) == "1 h 02 min" && Format.duration(185) == "3 min 05 s")
    }

    @Test func theBarLineNeverWrapsANarrowTerminal() {
        let s = Status(label: "verify", items: 123_456, bytes: 9_876_543_210, totalItems: 999_999, totalBytes: 99_876_543_210, elapsed: 100)
        for width in [20, 40, 60, 80, 200] {
            let line = s.barLine(width: width)
            #expect(line.count < width, "\(width): \(line)")
            #expect(line.hasPrefix("verify"))
        }
        #expect(s.barLine(width: 200).contains("["))
        #expect(!s.barLine(width: 60).contains("["), "no room for a bar: the numbers come first")
    }

    @Test func aTerminalGetsOneLineRewrittenInPlaceAndLogsGetPlainLines() {
        let written = Mutex<[String]>([])
        let terminal = ProgressReporter(label: "import", mode: .terminal, totalItems: 4, totalBytes: 400) { text in
            written.withLock { $0.append(text) }
        }
        terminal.update(items: 1, bytes: 100)  // the first update shows at once
        terminal.finish()
        let t = written.withLock { $0 }
        #expect(t.count == 2)
        #expect(t[0].hasPrefix("\r\u{1B}[Kimport [") && t[0].contains(" 25%  1/4 items") && !t[0].hasSuffix("\n"), "\(t)")
        #expect(t[1].hasPrefix("\r\u{1B}[Kimport: 1 items, 100 B, ") && t[1].hasSuffix(" s\n"), "\(t)")

        written.withLock { $0.removeAll() }
        let lines = ProgressReporter(label: "verify", mode: .lines, totalItems: 4, totalBytes: 400) { text in
            written.withLock { $0.append(text) }
        }
        lines.update(items: 1, bytes: 100)  // within the first interval: nothing yet
        lines.finish()
        let l = written.withLock { $0 }
        #expect(l.count == 1 && l[0].hasPrefix("verify: 1 items, 100 B, ") && l[0].hasSuffix(" s\n") && !l[0].contains("\r"), "\(l)")

        written.withLock { $0.removeAll() }
        let quiet = ProgressReporter(label: "q", mode: .quiet) { text in written.withLock { $0.append(text) } }
        quiet.update(items: 1, bytes: 1)
        quiet.finish()
        #expect(written.withLock { $0 }.isEmpty)
    }
}

/// Totals stated by an archive can be huge without overflowing; the line must still be shown, not trap.
@Suite struct ProgressReporterHugeTotalsTests {
    typealias Status = ProgressReporter.Status

    @Test(arguments: [(Int.max, Int64.max), (Int.max, nil), (1 << 62, Int64(1) << 62)] as [(Int, Int64?)])
    func hugeStatedTotalsShowAnHonestTimeLeft(_ items: Int, _ bytes: Int64?) {
        let s = Status(label: "import", items: 1, bytes: 1, totalItems: items, totalBytes: bytes, elapsed: 1000)
        #expect(s.barLine(width: 200).contains("over 277777777 h left"), "\(s.barLine(width: 200))")
        #expect(s.plainLine.contains("over 277777777 h left"), "\(s.plainLine)")
        #expect(!s.finalLine.isEmpty)
    }

    @Test func durationsBeyondIntAreCapped() {
        #expect(Format.duration(1e300) == "over 277777777 h")
        #expect(Format.duration(.infinity) == "over 277777777 h")
        #expect(Format.duration(.nan) == "unknown")
        #expect(Format.duration(-5) == "0 s")
        #expect(Format.duration(3725) == "1 h 02 min")
    }
}
