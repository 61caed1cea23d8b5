extension Counts {
    /// Item entries of every type (messages, contact and calendar files, scripts), as the archive stores them.
    public var items: Int { messages + contactFiles + calendarFiles + sieveScripts }
    /// Bytes of every item.
    public var bytes: Int64 { messageBytes + otherBytes }
}
