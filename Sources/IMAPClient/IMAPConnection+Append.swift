import Foundation
import IMAPCore
import MailModel
import NIOCore
import NIOPosix
import NIOSSL

/// APPEND and MULTIAPPEND, pipelined: messages are sent while earlier ones wait for their answers.
extension IMAPConnection {
    /// Messages up to this size are sent with their command in a single write (LITERAL+ only).
    static let coalescedAppendLimit: Int64 = 256 * 1024

    /// Sends `APPEND mailbox (flags) "date" {n+}` (LITERAL+; otherwise `{n}` and a wait for the continuation),
    /// streams the body holding back its last byte, calls `beforeFinalByte` (the caller checks the checksum
    /// there), then sends that byte and CRLF. If `beforeFinalByte` or the body throws, the connection is closed
    /// so the server never completes the APPEND, and the error is rethrown. Returns a sequence number; outcomes
    /// come from `nextAppendOutcome` in the same order.
    public func beginAppend(
        to mailbox: String, flags: [String], internalDate: InternalDate?, body: any ItemBody,
        beforeFinalByte: () throws -> Void
    ) throws -> Int {
        let size = body.byteCount
        // A flag that is not an atom would make the command line malformed, and a server that rejects the line
        // might read the message that follows as commands; refuse it before sending anything.
        let flags = try appendableFlags(flags)
        try takeAvailableResponses()
        let command = IMAPCommand.append(mailbox: mailbox, flags: flags, internalDate: internalDate, size: size)
        let encoded = try encodeAndRecord(command)
        appendCounter += 1
        let sequence = appendCounter
        let needsContinuation = encoded.parts.contains {
            if case .awaitContinuation = $0 { return true }
            return false
        }
        if size <= Self.coalescedAppendLimit && !needsContinuation {
            // A small message goes in one write with its command line and final CRLF: one wake-up of the event
            // loop and one system call per message instead of three or more, and nothing at all is sent should
            // the body or `beforeFinalByte` fail.
            var buffer = channel.allocator.buffer(capacity: Int(size) + 256)
            for case .data(let bytes) in encoded.parts { buffer.writeBytes(bytes) }
            do {
                try stream(body) { buffer.writeBytes($0) }
                try beforeFinalByte()
            } catch {
                // The command is recorded as under way but nothing was sent: the connection cannot go on in step.
                broken = true
                close()
                throw error
            }
            buffer.writeBytes([0x0d, 0x0a])
            try write(buffer, command: "APPEND")
            appendsPending.append((sequence, encoded.tag))
            return sequence
        }
        for part in encoded.parts {
            switch part {
            case .data(let bytes):
                try write(bytes, command: "APPEND")
            case .awaitContinuation:
                if try !awaitContinuation(for: encoded.tag, command: "APPEND") {
                    appendsPending.append((sequence, encoded.tag))  // refused before the literal
                    return sequence
                }
            case .messageBytes:
                preconditionFailure("a single APPEND has no MULTIAPPEND message parts")
            }
        }
        var held: UInt8? = nil
        do {
            try stream(body) { chunk in
                guard !chunk.isEmpty else { return }
                var offset = 0
                while offset < chunk.count {
                    let end = min(chunk.count, offset + Self.writeChunkSize)
                    var buffer = channel.allocator.buffer(capacity: end - offset + 1)
                    if let byte = held { buffer.writeInteger(byte) }
                    buffer.writeBytes(UnsafeRawBufferPointer(rebasing: chunk[offset..<(end - 1)]))
                    held = chunk[end - 1]
                    try write(buffer, command: "APPEND")
                    offset = end
                }
            }
            try beforeFinalByte()
        } catch {
            broken = true
            close()
            throw error
        }
        var tail: [UInt8] = held.map { [$0] } ?? []
        tail += [0x0d, 0x0a]
        try write(tail, command: "APPEND")
        appendsPending.append((sequence, encoded.tag))
        return sequence
    }

    /// Whether `beginMultiAppend` can send messages of these sizes: the server speaks MULTIAPPEND (RFC 3502) and
    /// takes every literal without a continuation, so the whole command goes out without a round trip.
    public func canMultiAppend(sizes: [Int64]) -> Bool {
        guard capabilities.contains("MULTIAPPEND") else { return false }
        let mode = literalModeOverride ?? IMAPLiteralMode(capabilities: capabilities)
        return sizes.allSatisfy { mode.isNonSynchronizing(size: $0) }
    }

    /// Sends one MULTIAPPEND command with `messages` (held in memory, so nothing can fail half way through the
    /// bytes). The server stores all of them or none (RFC 3502); the outcome from `nextAppendOutcome` carries
    /// the UIDs in message order when the server sends APPENDUID. Flags must already be valid (see
    /// `appendableFlags`). Returns a sequence number, like `beginAppend`.
    public func beginMultiAppend(to mailbox: String, messages: [(item: IMAPAppendItem, bytes: [UInt8])]) throws -> Int {
        guard canMultiAppend(sizes: messages.map(\.item.size)) else {
            throw IMAPError(.invalidArgument, server: server, command: "APPEND", detail: "the server takes no MULTIAPPEND of these sizes")
        }
        for message in messages where message.item.size != Int64(message.bytes.count) {
            throw IMAPError(.invalidArgument, server: server, command: "APPEND", detail: "a message's size is not its byte count")
        }
        try takeAvailableResponses()
        let encoded = try encodeAndRecord(.multiAppend(mailbox: mailbox, messages: messages.map(\.item)))
        appendCounter += 1
        let sequence = appendCounter
        var buffer = channel.allocator.buffer(capacity: Self.writeChunkSize + 4096)
        func flushIfFull() throws {
            guard buffer.readableBytes >= Self.writeChunkSize else { return }
            try write(buffer, command: "APPEND")
            buffer = channel.allocator.buffer(capacity: Self.writeChunkSize + 4096)
        }
        for part in encoded.parts {
            switch part {
            case .data(let bytes):
                buffer.writeBytes(bytes)
            case .messageBytes(let index):
                let bytes = messages[index].bytes
                var offset = 0
                while offset < bytes.count {
                    let room = max(1, Self.writeChunkSize - buffer.readableBytes)
                    let end = min(bytes.count, offset + room)
                    buffer.writeBytes(bytes[offset..<end])
                    offset = end
                    try flushIfFull()
                }
            case .awaitContinuation:
                throw IMAPError(.unusable, server: server, command: "APPEND", detail: "a MULTIAPPEND literal would need a continuation")
            }
            try flushIfFull()
        }
        buffer.writeBytes([0x0d, 0x0a])
        try write(buffer, command: "APPEND")
        appendsPending.append((sequence, encoded.tag))
        return sequence
    }

    /// The flags an APPEND may carry: without `\Recent` (RFC 9051 section 2.3.2: not settable); throws
    /// `.invalidArgument` for one that is not an IMAP atom, which would make the command line malformed.
    public func appendableFlags(_ flags: [String]) throws -> [String] {
        let flags = flags.filter { $0.lowercased() != "\\recent" }
        if let bad = flags.first(where: { !IMAPCommandEncoder.isValidFlag($0) }) {
            throw IMAPError(
                .invalidArgument, server: server, command: "APPEND", detail: "flag \"\(bad)\" is not an IMAP atom")
        }
        return flags
    }

    /// Streams an APPEND's body, holding it to its announced `byteCount`: the literal's size is already on the wire.
    func stream(_ body: any ItemBody, _ each: (UnsafeRawBufferPointer) throws -> Void) throws {
        let size = body.byteCount
        var sent: Int64 = 0
        try body.stream { chunk in
            sent += Int64(chunk.count)
            guard sent <= size else {
                throw IMAPError(.unusable, server: server, command: "APPEND", detail: "body longer than its byteCount")
            }
            try each(chunk)
        }
        guard sent == size else {
            throw IMAPError(
                .unusable, server: server, command: "APPEND", detail: "body gave \(sent) bytes, not its byteCount of \(size)")
        }
    }

    /// Files the responses that have arrived without waiting for more, so a long run of pipelined APPENDs does
    /// not leave their answers piling up in the hand-off (which would stop reading, then the server, then us).
    func takeAvailableResponses() throws {
        while true {
            while let event = try decodedEvent(command: "APPEND") {
                _ = try route(event, command: "APPEND")
                restartProgressWindow()
            }
            guard let taken = queue.takeIfAvailable() else { return }
            try accept(taken, command: "APPEND")
        }
    }

    /// Waits for the oldest APPEND in flight and tells how it ended.
    public func nextAppendOutcome() throws -> IMAPAppendOutcome {
        guard let (sequence, tag) = appendsPending.first else {
            throw IMAPError(.unusable, server: server, command: "APPEND", detail: "no APPEND in flight")
        }
        let response = try awaitCompletion(of: tag, command: "APPEND")
        appendsPending.removeFirst()
        switch response.status {
        case .ok:
            if case .appendUID(let validity, let uid, let set) = response.text.code {
                return IMAPAppendOutcome(
                    sequence: sequence, result: .appended(uidValidity: validity, uid: uid),
                    uids: IMAPUIDSet.expand(set) ?? [])
            }
            return IMAPAppendOutcome(sequence: sequence, result: .appended(uidValidity: nil, uid: nil))
        default:
            return IMAPAppendOutcome(
                sequence: sequence,
                result: .refused(status: response.status, text: response.text.text, code: response.text.code))
        }
    }
}
