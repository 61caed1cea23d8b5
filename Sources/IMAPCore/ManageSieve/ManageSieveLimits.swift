/// The bounds a ManageSieve client (RFC 5804) holds a server to, so a hostile or broken server cannot make it
/// buffer without end.
public struct ManageSieveLimits: Sendable, Equatable {
    /// The longest literal (`{N}`) the server may send: a script from GETSCRIPT, or a NO's text. Pigeonhole's
    /// default `sieve_max_script_size` is 1 MiB; scripts are configuration text, so 16 MiB is far beyond any real one.
    /// A larger announced literal is refused when its `{N}` is read, before any of its bytes are buffered.
    public var maxLiteralBytes: Int
    /// The longest response line outside literals (RFC 5804 sets none; capability lines and quoted strings are short).
    public var maxLineBytes: Int
    /// The most lines one response may have before its OK, NO or BYE (LISTSCRIPTS of a user with many scripts).
    public var maxResponseLines: Int

    public init(maxLiteralBytes: Int = 16 << 20, maxLineBytes: Int = 64 << 10, maxResponseLines: Int = 100_000) {
        self.maxLiteralBytes = maxLiteralBytes
        self.maxLineBytes = maxLineBytes
        self.maxResponseLines = maxResponseLines
    }

    public static let `default` = ManageSieveLimits()
}
