extension ReportPage {
    /// The user's identity map: every folder and the first messages, source identity beside where each is now.
    func identityMapTable(_ out: inout HTMLOutput, _ map: IdentityMap, _ sink: (ArraySlice<UInt8>) throws -> Void) rethrows {
        out.raw("<h3>Identity map: ")
        out.number(map.folderCount)
        out.raw(" folders, ")
        out.number(map.messageCount)
        out.raw(" messages</h3>\n<p class=\"note\">Where each source folder and message is at the target, by UID, GUID and file")
        if let csv = map.csvPath {
            out.raw("; every row is in <bdi>")
            out.text(csv)
            out.raw("</bdi>")
        }
        out.raw(".</p>\n<table class=\"items identity\">\n<thead><tr>")
        for column in IdentityMap.columns { out.raw("<th>\(column.replacingOccurrences(of: "_", with: " "))</th>") }
        out.raw("</tr></thead>\n<tbody>\n")
        for row in map.rows {
            out.raw("<tr>")
            for value in row.values {
                out.raw("<td><bdi>")
                out.text(value)
                out.raw("</bdi></td>")
            }
            out.raw("</tr>\n")
            try out.flushIfFull(sink)
        }
        out.raw("</tbody>\n</table>\n")
        let shown = map.rows.count - map.folderCount
        if map.messageCount > shown {
            out.raw("<p class=\"more\">… and ")
            out.number(map.messageCount - shown)
            out.raw(map.csvPath == nil ? " more messages not listed here.</p>\n" : " more messages, in the CSV file.</p>\n")
        }
    }
}
