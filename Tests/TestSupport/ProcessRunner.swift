import Foundation

/// How a finished process ended and what it printed.
public struct ProcessOutput: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
    public var stdoutBytes: Data

    public init(status: Int32, stdout: String, stderr: String, stdoutBytes: Data) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
        self.stdoutBytes = stdoutBytes
    }
}

/// The one way tests run a program to its end.
public enum ProcessRunner {
    /// Runs `executable` (a path) with `arguments`: feeds `input` on stdin (else stdin is empty), reads stdout and
    /// stderr side by side so a full pipe never blocks the child, and kills it (SIGKILL) after `limit` seconds, a
    /// guard against a hang, not a measurement. `environment` replaces the test's environment; `adding` adds to it.
    public static func run(
        _ executable: String, _ arguments: [String], input: Data? = nil, environment: [String: String]? = nil,
        adding: [String: String] = [:], directory: String? = nil, limit: TimeInterval = 900
    ) throws -> ProcessOutput {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if environment != nil || !adding.isEmpty {
            process.environment = (environment ?? ProcessInfo.processInfo.environment).merging(adding) { $1 }
        }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let stdin = input.map { _ in Pipe() }
        process.standardInput = stdin ?? FileHandle.nullDevice
        try process.run()
        let errData = Collected()
        let reader = Thread { errData.finish(err.fileHandleForReading.readDataToEndOfFile()) }
        reader.start()
        if let stdin, let input {
            // Written from its own thread: a child that prints before it reads must not block on us.
            let writer = Thread {
                stdin.fileHandleForWriting.write(input)
                try? stdin.fileHandleForWriting.close()
            }
            writer.start()
        }
        let ended = Collected()
        let pid = process.processIdentifier
        let watchdog = Thread {
            let deadline = Date().addingTimeInterval(limit)
            while !ended.isFinished && Date() < deadline { usleep(100_000) }
            if !ended.isFinished { kill(pid, SIGKILL) }
        }
        watchdog.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        ended.finish(Data())
        let stderr = errData.wait()
        return ProcessOutput(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self), stdoutBytes: outData)
    }

    /// `run` with the program looked up in PATH (`python3`, `tar`, `openssl`).
    public static func run(
        tool: String, _ arguments: [String], input: Data? = nil, adding: [String: String] = [:], limit: TimeInterval = 900
    ) throws -> ProcessOutput {
        try run("/usr/bin/env", [tool] + arguments, input: input, adding: adding, limit: limit)
    }
}

/// Bytes handed from a reader thread to the waiting test.
final class Collected: @unchecked Sendable {
    // Guarded by the condition's lock.
    private let condition = NSCondition()
    private var data: Data?

    func finish(_ value: Data) {
        condition.lock()
        data = value
        condition.broadcast()
        condition.unlock()
    }

    var isFinished: Bool {
        condition.lock()
        defer { condition.unlock() }
        return data != nil
    }

    func wait() -> Data {
        condition.lock()
        defer { condition.unlock() }
        while data == nil { condition.wait() }
        return data!
    }
}
