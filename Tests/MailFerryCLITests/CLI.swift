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

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        var stdoutBytes: Data
    }

    @discardableResult
    static func run(_ arguments: [String], environment extra: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        if !extra.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(extra) { $1 }
        }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes concurrently so a full pipe never blocks the child.
        let errData = LockedData()
        let reader = Thread { errData.set(err.fileHandleForReading.readDataToEndOfFile()) }
        reader.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while !errData.done { usleep(1000) }
        return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData.value, as: UTF8.self), stdoutBytes: outData)
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

final class LockedData: @unchecked Sendable {
    // Test-only hand-off between the reader thread and the test; guarded by the lock.
    private let lock = NSLock()
    private var data = Data()
    private var finished = false
    func set(_ d: Data) { lock.withLock { data = d; finished = true } }
    var done: Bool { lock.withLock { finished } }
    var value: Data { lock.withLock { data } }
}

/// A scratch folder removed afterwards.
final class Workspace {
    let path: String
    init() throws {
        path = NSTemporaryDirectory() + "mailferry-cli-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
    func file(_ name: String) -> String { path + "/" + name }

    /// A copy of samples/store with its message dates restored (git keeps neither mtimes nor empty folders).
    func sampleStore() throws -> String {
        let store = file("store")
        let copy = Process()
        copy.executableURL = URL(fileURLWithPath: "/bin/cp")
        copy.arguments = ["-a", CLI.repositoryRoot + "/samples/store", store]
        try copy.run()
        copy.waitUntilExit()
        let restore = Process()
        restore.executableURL = URL(fileURLWithPath: "/bin/bash")
        restore.arguments = [CLI.repositoryRoot + "/samples/restore-dates.sh", store]
        restore.standardOutput = FileHandle.nullDevice
        try restore.run()
        restore.waitUntilExit()
        return store
    }
}
