#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import BufferSpool
import Connectors
import Foundation
import PostgresSpool

/// Sends one control request to a running buffer, or performs it on the spool when no buffer runs.
public enum BufferControlClient {
    /// Why a request could not be answered.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Asks the server listening on the spool's control socket; if none listens (no socket, or a stale one left by
    /// a killed server) opens the spool directly. A spool locked by a server that does not answer is a failure.
    /// `delivery` serves a release performed here, when no server answers (the server uses its own configuration's).
    /// `progress` gets a release's progress, from the server (when the request asks for it) or from the release run
    /// here.
    public static func send(
        _ request: BufferControl.Request, spoolDirectory: String, passwordFile: String? = nil,
        delivery: ConnectorOptions = ConnectorOptions(), progress: ((ReleaseProgress) -> Void)? = nil
    ) throws -> BufferControl.Response {
        // A shared spool: every host's commands act on the database; row and advisory locks order them.
        if PostgresSpoolURL.isURL(spoolDirectory) {
            let spool = try SpoolStores.open(spoolDirectory, passwordFile: passwordFile)
            defer { try? spool.close() }
            return BufferControl.perform(request, on: spool, delivery: delivery, progress: progress)
        }
        let path = BufferControl.socketPath(spoolDirectory: spoolDirectory)
        if let response = try ask(request, socketPath: path, spoolDirectory: spoolDirectory, progress: progress) { return response }
        let spool: any SpoolStore
        do {
            spool = try SpoolStores.open(spoolDirectory, passwordFile: nil)
        } catch SpoolError.locked {
            throw Failure(
                description: "the spool \(spoolDirectory) is in use by a buffer that does not answer on \(path); "
                    + "is it an older version, or still starting? Try again, or stop it first")
        }
        defer { try? spool.close() }
        return BufferControl.perform(request, on: spool, delivery: delivery, progress: progress)
    }

    /// The server's answer, or nil when nobody listens on `socketPath`. A release's receipt and key are handed to
    /// the server as copies in the spool directory (`StagedReleaseFiles`), which a sandboxed server can read.
    static func ask(
        _ request: BufferControl.Request, socketPath: String, spoolDirectory: String? = nil,
        progress: ((ReleaseProgress) -> Void)? = nil
    ) throws -> BufferControl.Response? {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(socketPath.utf8)
        guard pathBytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw Failure(description: "control socket path \(socketPath) is too long for a unix socket")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
            raw[pathBytes.count] = 0
        }
        #if canImport(Glibc)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_UNIX, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if connected != 0 {
            let code = errno
            if code == ENOENT || code == ECONNREFUSED { return nil }
            throw Failure(description: "cannot connect to \(socketPath): \(String(cString: strerror(code)))")
        }
        var staged: StagedReleaseFiles?
        var request = request
        if case .release(var parameters) = request, let spoolDirectory {
            staged = StagedReleaseFiles(parameters: &parameters, spoolDirectory: spoolDirectory)
            request = .release(parameters)
        }
        defer { staged?.remove() }
        var bytes = Array((request.line + "\n").utf8)
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                throw Failure(description: "writing to \(socketPath): \(String(cString: strerror(errno)))")
            }
            bytes.removeFirst(written)
        }
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw Failure(description: "reading from \(socketPath): \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            answer += chunk[..<count]
            // Progress lines come before the response; hand each on as it completes.
            while let newline = answer.firstIndex(of: 10), let p = BufferControl.decodeProgress(answer[..<newline]) {
                progress?(p)
                answer.removeSubrange(...newline)
            }
        }
        do {
            var response = try BufferControl.decode(answer)
            if let staged, let error = response.error { response.error = staged.restoringPaths(error) }
            return response
        } catch {
            throw Failure(description: "the buffer's answer on \(socketPath) is not a control response: \(error)")
        }
    }
}
