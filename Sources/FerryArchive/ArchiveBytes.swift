/// The bytes of an archive as its reader sees them: the file itself (`OwnedFile`), or the plaintext inside an age
/// file (`AgeDecryptingFile`), read at any offset either way.
protocol ArchiveBytes: AnyObject {
    var path: String { get }
    var size: Int64 { get throws }
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws -> Int
}

extension ArchiveBytes {
    /// Reads exactly `count` bytes at `offset`, or throws a format error saying the file is too short.
    func read(count: Int, at offset: Int64) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let got = try bytes.withUnsafeMutableBytes { try read(into: $0, at: offset) }
        if got != count {
            throw ArchiveError(.format, path, "truncated: wanted \(count) bytes at offset \(offset), file ends after \(got)")
        }
        return bytes
    }
}

/// Where an archive's bytes go as it is written: the file itself (`OwnedFile`), or an age encryption of them
/// (`AgeEncryptingOutput`). `finish` comes after the last write and before `sync`.
protocol ArchiveOutput: AnyObject {
    var path: String { get }
    var size: Int64 { get throws }
    func write(_ bytes: UnsafeRawBufferPointer) throws
    func finish() throws
    func sync() throws
}

extension ArchiveOutput {
    func write(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write($0) } }
}
