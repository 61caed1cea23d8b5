/// Reads vCard files (RFC 6350 4.0, RFC 2426 3.0, and 2.1 as far as the line syntax allows) to list
/// their cards. The bytes are carried unchanged; this is only for summaries and problem reports.
public enum VCardCodec {
    /// One card being read: its summary so far and where it began.
    struct OpenCard {
        var summary = CardSummary(version: nil, uid: nil, formattedName: nil)
        var beginLine: Int
        var startByte: Int
    }

    /// Every card in the file with VERSION, UID and FN (TEXT unescaped), and human-readable problems
    /// naming lines. A card with no END:VCARD is still summarised as far as it was read.
    public static func summarize(_ bytes: [UInt8]) -> (cards: [CardSummary], problems: [String]) {
        let (cards, _, problems) = read(bytes)
        return (cards, problems)
    }

    /// The exact byte range of each card, from the start of its BEGIN line to just after its END line
    /// (or to the end of the last line read, for a card left open), in file order.
    public static func split(_ bytes: [UInt8]) -> [Range<Int>] {
        read(bytes).ranges
    }

    static func read(_ bytes: [UInt8]) -> (cards: [CardSummary], ranges: [Range<Int>], problems: [String]) {
        var cards: [CardSummary] = []
        var ranges: [Range<Int>] = []
        var problems: [String] = []
        var open: OpenCard?
        var lastEnd = 0
        var reportedStray = false
        let (lines, malformed) = ContentLines.parse(bytes)
        for number in malformed { problems.append("line \(number): not a content line (no ':' after the name)") }
        for line in lines {
            let value = line.value.trimmingWhiteSpace().uppercased()
            if line.name == "BEGIN" && value == "VCARD" {
                if let card = open {
                    problems.append(
                        "line \(card.beginLine): BEGIN:VCARD without END:VCARD (a new BEGIN:VCARD follows at line \(line.lineNumber))")
                    cards.append(card.summary)
                    ranges.append(card.startByte..<lastEnd)
                }
                open = OpenCard(beginLine: line.lineNumber, startByte: line.byteRange.lowerBound)
            } else if line.name == "END" && value == "VCARD" {
                if let card = open {
                    cards.append(card.summary)
                    ranges.append(card.startByte..<line.byteRange.upperBound)
                    open = nil
                } else {
                    problems.append("line \(line.lineNumber): END:VCARD without BEGIN:VCARD")
                }
            } else if open != nil {
                // The first occurrence of each property counts.
                switch line.name {
                case "VERSION" where open!.summary.version == nil:
                    open!.summary.version = line.value.trimmingWhiteSpace()
                case "UID" where open!.summary.uid == nil:
                    open!.summary.uid = ContentLines.unescapeText(line.value)
                case "FN" where open!.summary.formattedName == nil:
                    open!.summary.formattedName = ContentLines.unescapeText(line.value)
                default: break
                }
            } else if !reportedStray {
                problems.append("line \(line.lineNumber): \(line.name) outside BEGIN:VCARD ... END:VCARD")
                reportedStray = true
            }
            lastEnd = line.byteRange.upperBound
        }
        if let card = open {
            problems.append("line \(card.beginLine): BEGIN:VCARD without END:VCARD")
            cards.append(card.summary)
            ranges.append(card.startByte..<lastEnd)
        }
        if cards.isEmpty { problems.append("no BEGIN:VCARD found") }
        return (cards, ranges, problems)
    }
}
