/// Reads iCalendar files (RFC 5545) to list the components a person would recognise: the events,
/// tasks, journal entries and free/busy blocks directly inside each VCALENDAR. Time zones and nested
/// components (VALARM) are not listed. The bytes are carried unchanged.
public enum ICalendarCodec {
    /// The component kinds listed in a summary (RFC 5545 section 3.6); VTIMEZONE is deliberately absent.
    public static let listedKinds: Set<String> = ["VEVENT", "VTODO", "VJOURNAL", "VFREEBUSY"]

    struct Open {
        var name: String
        var line: Int
        /// Index into the summaries when this component is listed.
        var summaryIndex: Int?
    }

    /// The listed components with kind, UID and SUMMARY (TEXT unescaped), and problems naming lines
    /// for unbalanced BEGIN/END. A component left open is still listed as far as it was read.
    public static func summarize(_ bytes: [UInt8]) -> (components: [ComponentSummary], problems: [String]) {
        var components: [ComponentSummary] = []
        var problems: [String] = []
        var stack: [Open] = []
        var sawCalendar = false
        let (lines, malformed) = ContentLines.parse(bytes)
        for number in malformed { problems.append("line \(number): not a content line (no ':' after the name)") }
        for line in lines {
            let value = line.value.trimmingWhiteSpace().uppercased()
            switch line.name {
            case "BEGIN":
                var entry = Open(name: value, line: line.lineNumber)
                if value == "VCALENDAR" {
                    sawCalendar = true
                    if !stack.isEmpty {
                        problems.append("line \(line.lineNumber): BEGIN:VCALENDAR inside \(stack.last!.name) begun at line \(stack.last!.line)")
                    }
                } else if stack.isEmpty {
                    problems.append("line \(line.lineNumber): BEGIN:\(value) outside BEGIN:VCALENDAR ... END:VCALENDAR")
                } else if stack.count == 1, stack[0].name == "VCALENDAR", listedKinds.contains(value) {
                    entry.summaryIndex = components.count
                    components.append(ComponentSummary(kind: value, uid: nil, summary: nil))
                }
                stack.append(entry)
            case "END":
                guard let depth = stack.lastIndex(where: { $0.name == value }) else {
                    problems.append("line \(line.lineNumber): END:\(value) without BEGIN:\(value)")
                    continue
                }
                for unclosed in stack[(depth + 1)...].reversed() {
                    problems.append(
                        "line \(unclosed.line): BEGIN:\(unclosed.name) without END:\(unclosed.name) (END:\(value) at line \(line.lineNumber) closes the enclosing component)")
                }
                stack.removeSubrange(depth...)
            case "UID", "SUMMARY", "ORGANIZER":
                // Only properties of the listed component itself, not of a VALARM inside it.
                guard let index = stack.last?.summaryIndex else { continue }
                if line.name == "ORGANIZER" {
                    let value = line.value.trimmingWhiteSpace()
                    if components[index].organizer == nil, value.lowercased().hasPrefix("mailto:") {
                        components[index].organizer = String(value.dropFirst(7))
                    }
                    continue
                }
                let text = ContentLines.unescapeText(line.value)
                if line.name == "UID", components[index].uid == nil { components[index].uid = text }
                if line.name == "SUMMARY", components[index].summary == nil { components[index].summary = text }
            default:
                continue
            }
        }
        for unclosed in stack.reversed() {
            problems.append("line \(unclosed.line): BEGIN:\(unclosed.name) without END:\(unclosed.name)")
        }
        if !sawCalendar { problems.append("no BEGIN:VCALENDAR found") }
        return (components, problems)
    }
}
