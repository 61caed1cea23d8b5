/// Defaults of the buffer service that a configuration file may change.
public enum BufferDefaults {
    /// Connections served at once per listener; more wait in the kernel's backlog.
    public static let maximumConnections = 256
}
