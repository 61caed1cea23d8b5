import MailModel

/// Whether each attendee's copy of a meeting at the target still has its organizer's event, across the users one
/// reconcile covers. On a DAV server that does not schedule, the copies are linked only by the meeting's UID (the
/// organizer's event lists the attendees, each attendee's copy names the organizer): a migration keeps the link
/// when both arrive with their UIDs and the organizer's address as the target knows it (the user mapping rewrites
/// ORGANIZER and ATTENDEE). The target's calendars are read by the reconcile anyway; this keeps, per user, only the
/// UIDs of the meetings the user organises and the attendee copies, and names every copy whose organizer is one of
/// the users reconciled but whose event is not in that user's calendars at the target.
final class MeetingLinks {
    struct AttendeeCopy {
        let calendar: String
        let resourceName: String
        let uid: String
        let summary: String?
        let organizer: String
    }

    /// Lower-cased target address to the UIDs of the meetings that user organises at the target.
    private var organised: [String: Set<String>] = [:]
    /// Lower-cased target address to that user's copies of meetings others organise.
    private var copies: [String: [AttendeeCopy]] = [:]

    /// Notes a calendar item the target holds for `owner` (its target address).
    func add(_ info: CalendarItemInfo, calendar: String, owner: String) {
        let owner = owner.lowercased()
        for component in info.components {
            guard let uid = component.uid, let organizer = component.organizer?.lowercased() else { continue }
            if organizer == owner {
                organised[owner, default: []].insert(uid)
            } else {
                copies[owner, default: []].append(
                    AttendeeCopy(calendar: calendar, resourceName: info.resourceName, uid: uid, summary: component.summary, organizer: organizer))
            }
        }
    }

    /// For each user (lower-cased target address), the attendee copies whose organizer was reconciled too but has no
    /// event with that UID at the target, as report lines. A copy whose organizer is not among the users reconciled
    /// is not judged: that organizer's calendars were not read.
    func unlinked(reconciled: Set<String>) -> [String: [String]] {
        var lines: [String: [String]] = [:]
        for (owner, list) in copies {
            for copy in list where reconciled.contains(copy.organizer) && organised[copy.organizer]?.contains(copy.uid) != true {
                let title = copy.summary.map { " (\($0))" } ?? ""
                lines[owner, default: []].append(
                    "calendar \(copy.calendar): \(copy.resourceName)\(title) is an attendee's copy of a meeting \(copy.organizer) organises (UID \(copy.uid)), and \(copy.organizer)'s calendars at the target have no event with that UID")
            }
        }
        return lines
    }
}
