import MailModel

/// Writes messages in mboxrd form: a From_ line, the content with `>*From ` lines quoted, and an
/// empty line after each message. `MboxReader` reads the result back byte for byte, with one
/// exception the format cannot avoid: a message not ending in a line break gets one, because the
/// separating empty line must start on a line of its own.
public enum MboxWriter {
    /// One message as it goes into the file. `lineBreak` is used for the lines the writer adds
    /// (`"\n"`, or `"\r\n"` for a CRLF mbox); the content's own line breaks are kept as they are.
    public static func entry(
        message: some Sequence<UInt8>, sender: String, date: InternalDate, lineBreak: String = "\n"
    ) -> [UInt8] {
        var output = Array(MboxFromLine.format(sender: sender, date: date).utf8)
        output.append(contentsOf: lineBreak.utf8)
        let bodyStart = output.count
        var quoting = MboxQuoting(.quote)
        quoting.feed(message, into: &output)
        quoting.finish(into: &output)
        if output.count > bodyStart && output.last != UInt8(ascii: "\n") { output.append(contentsOf: lineBreak.utf8) }
        output.append(contentsOf: lineBreak.utf8)
        return output
    }
}
