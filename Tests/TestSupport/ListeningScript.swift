import Foundation

/// A Python script that stands in for a server or a relay on a free port of 127.0.0.1 (a hostile IMAP server, a
/// proxy that cuts connections). The script prints one line ending in the port it listens on before it accepts
/// anything; the process is killed when the value goes away.
public final class ListeningScript {
    private let process = Process()
    public let port: Int

    /// Starts `python3 script arguments...` and waits for its first line.
    public init(_ script: String, _ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var said = ""
        while !said.contains("\n") {
            let data = out.fileHandleForReading.availableData
            guard !data.isEmpty else { break }
            said += String(decoding: data, as: UTF8.self)
        }
        guard let port = Int(said.split(separator: "\n").first?.split(separator: " ").last ?? "") else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw ListeningScriptError(script: script, said: said)
        }
        self.port = port
    }

    deinit {
        // SIGKILL: the test runner's blocked signals are inherited, so SIGTERM would wait.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

/// The script ended or printed something else before naming its port.
public struct ListeningScriptError: Error, CustomStringConvertible {
    public var script: String
    public var said: String
    public var description: String { "\(script) did not say its port (it printed \(said.debugDescription))" }
}
