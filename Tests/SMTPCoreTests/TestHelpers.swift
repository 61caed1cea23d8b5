import TestSupport
@testable import SMTPCore


func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

/// Cuts `input` into chunks: all at once, one byte at a time, or at random points.
enum Split: CustomStringConvertible {
    case whole
    case bytewise
    case random(seed: UInt64)

    func chunks(_ input: [UInt8]) -> [[UInt8]] {
        switch self {
        case .whole:
            return [input]
        case .bytewise:
            return input.map { [$0] }
        case .random(let seed):
            var generator = SplitMix64(seed: seed)
            var result: [[UInt8]] = []
            var index = 0
            while index < input.count {
                let length = Int.random(in: 1...17, using: &generator)
                result.append(Array(input[index..<min(input.count, index + length)]))
                index += length
            }
            return result
        }
    }

    var description: String {
        switch self {
        case .whole: return "whole"
        case .bytewise: return "bytewise"
        case .random(let seed): return "random(\(seed))"
        }
    }

    static let all: [Split] = [.whole, .bytewise, .random(seed: 1), .random(seed: 42), .random(seed: 20_260_101)]
}

/// What a framer produced, with adjacent content chunks joined so different splits compare equal.
enum Framed: Hashable {
    case line(String)
    case content(String)
    case end(SMTPDataSummary)
    case error(SMTPFramingError)
}

/// Runs a framer over chunks; a command line `DATA` switches it into DATA mode, as the session would.
func frame(_ chunks: [[UInt8]], options: SMTPFramer.Options = .init(), maximumSize: Int = 1 << 20) -> [Framed] {
    var framer = SMTPFramer(options: options)
    var result: [Framed] = []
    func record(_ item: Framed) {
        if case .content(let more) = item, case .content(let earlier)? = result.last {
            result[result.count - 1] = .content(earlier + more)
        } else {
            result.append(item)
        }
    }
    for chunk in chunks {
        framer.append(chunk)
        while true {
            do {
                guard case .event(let event) = try framer.next() else { break }
                switch event {
                case .commandLine(let line):
                    record(.line(text(line)))
                    if text(line).uppercased() == "DATA" { framer.beginData(maximumSize: maximumSize) }
                case .content(let content):
                    record(.content(text(content)))
                case .endOfData(let summary):
                    record(.end(summary))
                }
            } catch {
                record(.error(error))
            }
        }
    }
    return result
}

/// A host around `SMTPServerConnection`: answers recipient checks from a set of users, stores
/// messages at once (or holds them until `store()`), and records the reply bytes it sends.
struct TestHost {
    var connection: SMTPServerConnection
    var users: Set<String>
    var storeImmediately = true
    var output: [UInt8] = []
    var messages: [(SMTPEnvelope, [UInt8])] = []
    var openMessage: [UInt8]?
    var aborted = 0
    var closed = false
    var tlsStarts = 0

    init(_ configuration: SMTPSession.Configuration, users: Set<String>) {
        connection = SMTPServerConnection(configuration: configuration)
        self.users = users
    }

    var transcript: String { text(output) }

    mutating func start() { run(connection.start()) }

    mutating func receive(_ input: [UInt8], split: Split = .whole) {
        for chunk in split.chunks(input) { run(connection.receive(chunk)) }
    }

    mutating func receive(_ input: String, split: Split = .whole) { receive(bytes(input), split: split) }

    mutating func send(_ event: SMTPSession.Event) { run(connection.handle(event)) }

    mutating func run(_ actions: [SMTPSession.Action]) {
        for action in actions {
            switch action {
            case .send(let reply):
                output += reply.bytes
            case .startTLS:
                tlsStarts += 1
            case .checkRecipient(let path, _):
                let accepted: Bool
                switch path {
                case .postmaster: accepted = true
                case .mailbox(let mailbox): accepted = users.contains(mailbox.address.lowercased())
                }
                run(connection.handle(.recipientChecked(accepted ? .accept : .reject(.userUnknown))))
            case .beginMessage:
                openMessage = []
            case .appendContent(let content):
                openMessage! += content
            case .finishMessage(let envelope, _):
                messages.append((envelope, openMessage!))
                openMessage = nil
                if storeImmediately { run(connection.handle(.messageStored(.stored(id: "M\(messages.count)")))) }
            case .abortMessage:
                openMessage = nil
                aborted += 1
            case .close:
                closed = true
            }
        }
    }
}
