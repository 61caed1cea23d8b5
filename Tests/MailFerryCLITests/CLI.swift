import TestSupport
import Foundation

/// Runs the built `mailferry` binary as a user would, capturing its output and exit status.
enum CLI {
    static let binary = BuiltBinary.path

    static let repositoryRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    typealias Result = ProcessOutput

    @discardableResult
    static func run(_ arguments: [String], environment extra: [String: String] = [:]) throws -> Result {
        try ProcessRunner.run(binary, arguments, adding: extra)
    }

    /// Starts the binary without waiting, for kill tests.
    static func start(_ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }
}

/// A scratch folder removed afterwards.
final class Workspace {
    let directory: TemporaryDirectory
    var path: String { directory.path }
    init() throws { directory = try TemporaryDirectory(prefix: "mailferry-cli") }
    func file(_ name: String) -> String { directory.file(name) }

    /// A copy of samples/store with its message dates restored (git keeps neither mtimes nor empty folders).
    func sampleStore() throws -> String {
        let store = file("store")
        try ProcessRunner.run("/bin/cp", ["-a", CLI.repositoryRoot + "/samples/store", store])
        try ProcessRunner.run("/bin/bash", [CLI.repositoryRoot + "/samples/restore-dates.sh", store])
        return store
    }
}
