import Buffer
import FerryKit

/// Files an operator writes: errors are expected, traps are not.
enum ConfigurationFuzz {
    static func toml(_ input: UnsafeRawBufferPointer) {
        // TOMLKit takes a String; bytes that are not UTF-8 are refused before it by the loader.
        guard let text = String(validatingUTF8: input) else { return }
        _ = try? BufferConfiguration.parse(text, path: "fuzz.toml")
    }

    static func usersCSV(_ input: UnsafeRawBufferPointer) {
        guard let text = String(validatingUTF8: input) else { return }
        _ = try? MigrationUsersFile.parse(text, path: "users.csv")
    }
}

extension String {
    /// The bytes as UTF-8 text, or nil when they are not UTF-8 (as the file loaders see them).
    init?(validatingUTF8 bytes: UnsafeRawBufferPointer) {
        guard let text = String(validating: bytes.assumingMemoryBound(to: UInt8.self), as: UTF8.self) else { return nil }
        self = text
    }
}
