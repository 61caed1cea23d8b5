/// What `export --estimate` found: per user the items and bytes at the source, and the archive size and time the
/// export should take, from a measured sample (see `ExportEstimator`).
public struct ExportEstimate: Codable, Sendable {
    public var source: String
    public var users: [User]
    /// Items and bytes of every user together.
    public var items: Int
    public var bytes: Int64
    public var sample: Sample
    /// Compressed bytes per source byte, measured on the sample (zstd level 3, as the archive is written).
    public var compressionRatio: Double
    /// Bytes per second the export should go at: reading the source and checking and compressing the bytes, each
    /// measured on the sample, taken one after the other.
    public var bytesPerSecond: Double
    public var archiveBytes: Int64
    public var seconds: Double
    /// How the figures were made, for people.
    public var method: String

    public struct User: Codable, Sendable {
        public var address: String
        public var folders: [Folder]
        public var messages: Int
        public var messageBytes: Int64
        /// Contact files, calendar files and Sieve scripts.
        public var otherItems: Int
        public var otherBytes: Int64
    }

    public struct Folder: Codable, Sendable {
        public var name: String
        public var messages: Int
        public var bytes: Int64
    }

    /// The items read whole to measure: how many, their bytes, what zstd made of them, and the seconds spent reading
    /// them from the source and hashing and compressing them here.
    public struct Sample: Codable, Sendable {
        public var items: Int
        public var bytes: Int64
        public var compressedBytes: Int64
        public var readSeconds: Double
        public var processSeconds: Double
    }
}
