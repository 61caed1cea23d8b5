/// The buffer server's fixed limits, each with its reason.
public enum BufferDefaults {
    /// Octets at the start of a message kept in memory while its header section is read (Message-ID, the loop
    /// marker), before the spool writer opens. RFC 5322 sets no limit on the header section; 64 KiB holds every
    /// real one many times over. Longer ones are read on to `headerFieldScanLimit` as they stream to the spool.
    public static let headerScanLimit = 64 * 1024

    /// Octets of a header section read in all: past `headerScanLimit` the content streams to the spool while the
    /// header section is still read, holding one field at a time, so a Message-ID (or our loop marker) behind
    /// large fields is still found. Generous (16 times the in-memory limit) and still bounded.
    public static let headerFieldScanLimit = 1024 * 1024

    /// Content handed to the spool writer and not yet written: past this the connection stops reading from the
    /// socket until the writer catches up, so a fast client cannot fill memory (backpressure).
    public static let pendingWriteLimit = 1024 * 1024

    /// Pipelined input the framer may hold while the session waits for the spool; reading stops beyond it.
    public static let bufferedInputLimit = 256 * 1024

    /// Octets a client in DATA must send within each `[limits] data_timeout` (or end the message): a client that
    /// trickles a byte every few seconds is cut off, while one on a 300 bit/s link still sends this in a
    /// fraction of the time.
    public static let dataProgressBytes = 4096

    /// How long a graceful shutdown waits for sessions to finish their transaction before closing them.
    public static let shutdownTimeout = Duration.seconds(30)

    /// Threads that may block in spool work at once (file writes and fsyncs, SQLite writes, releases); more jobs
    /// queue. Twice the 16 concurrent senders of the benchmark, so a batch of commits never waits for a thread,
    /// while a flood of connections (up to `limits.connections` per listener) cannot start a thread each.
    public static let spoolThreads = 32

    /// How often the server looks for users whose linger time (`[buffer] linger`) is over and closes them.
    /// The linger time is days in practice; a minute late is no harm, and the check is one small query.
    public static let lingerCheckInterval = Duration.seconds(60)

    /// The header field that marks a message as having passed through this buffer (RFC 5321 section 6.3:
    /// a server should detect routing loops). Its value is the buffer's hostname.
    public static let loopMarkerField = "X-MailFerry-Buffered"

    /// The control socket's file name inside the spool directory (see `BufferControl`).
    public static let controlSocketName = "control.sock"
}
