extension Counts {
    /// Item entries of every type (messages, contact and calendar files, scripts), as the archive stores them.
    public var items: Int { messages + contactFiles + calendarFiles + sieveScripts }
    /// Bytes of every item.
    public var bytes: Int64 { messageBytes + otherBytes }
}

extension Counts {
    /// The field-by-field sum, or nil when a field of either is negative or the sum (or its `items` or `bytes`)
    /// would overflow: counts read from an archive are checked with this before any arithmetic on them.
    func checkedAdding(_ other: Counts) -> Counts? {
        func add<T: FixedWidthInteger>(_ a: T, _ b: T) -> T? {
            guard a >= 0, b >= 0 else { return nil }
            let (sum, overflow) = a.addingReportingOverflow(b)
            return overflow ? nil : sum
        }
        var r = Counts()
        guard let messages = add(messages, other.messages), let messageBytes = add(messageBytes, other.messageBytes),
              let contactFiles = add(contactFiles, other.contactFiles), let contacts = add(contacts, other.contacts),
              let calendarFiles = add(calendarFiles, other.calendarFiles), let events = add(events, other.events),
              let tasks = add(tasks, other.tasks), let sieveScripts = add(sieveScripts, other.sieveScripts),
              let otherBytes = add(otherBytes, other.otherBytes)
        else { return nil }
        r.messages = messages
        r.messageBytes = messageBytes
        r.contactFiles = contactFiles
        r.contacts = contacts
        r.calendarFiles = calendarFiles
        r.events = events
        r.tasks = tasks
        r.sieveScripts = sieveScripts
        r.otherBytes = otherBytes
        guard let a = add(messages, contactFiles), let b = add(calendarFiles, sieveScripts), add(a, b) != nil,
              add(messageBytes, otherBytes) != nil
        else { return nil }
        return r
    }
}
