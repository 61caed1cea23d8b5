/// Limits of the buffer's spool.
public enum SpoolLimits {
    /// Recipients per message: RFC 5321 section 4.5.3.1.8 requires accepting at least 100.
    public static let recipientsPerMessage = 100
}
