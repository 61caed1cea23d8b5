import IMAPCore
import SMTPCore

/// Network parsers: what a server (IMAP, LMTP) or a client (SMTP, LMTP) we do not control sends. The first input
/// byte picks options and how the rest is cut into reads, since a parser must give the same answers whatever the
/// cut.
enum ProtocolFuzz {
    /// Cuts `bytes` into chunks of 1 to `1 << (seed % 12)` bytes, as reads from a socket might.
    static func chunks(_ bytes: ArraySlice<UInt8>, seed: UInt8) -> [ArraySlice<UInt8>] {
        let size = max(1, 1 << Int(seed % 12))
        var out: [ArraySlice<UInt8>] = []
        var start = bytes.startIndex
        var step = 0
        while start < bytes.endIndex {
            // Vary the size a little so that boundaries fall everywhere.
            let n = min(bytes.endIndex - start, max(1, size - step % 3))
            out.append(bytes[start..<start + n])
            start += n
            step += 1
        }
        return out
    }

    static func imap(_ input: UnsafeRawBufferPointer) {
        guard let seed = input.first else { return }
        let bytes = ArraySlice(Array(input.dropFirst()))
        var decoder = IMAPResponseDecoder(expectingGreeting: seed & 0x80 != 0)
        var events = 0
        do {
            for chunk in chunks(bytes, seed: seed) {
                decoder.append(chunk)
                while let event = try decoder.next() {
                    events += 1
                    _ = event
                }
            }
        } catch {
            _ = decoder.discardBuffered()
        }
        // The parser on its own, on every line, as the framer would hand it over.
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            let l = Array(line.last == 13 ? line.dropLast() : line)
            _ = try? IMAPResponseParser.parseResponse(l)
            if seed & 0x40 != 0 { _ = try? IMAPResponseParser.parseGreeting(l) }
        }
    }

    /// ManageSieve server bytes (RFC 5804): lines cut by the parser under small limits (bit 7 of the first byte:
    /// a 64-byte literal and line limit, so the limit paths are reached), each checked as a completion too.
    static func manageSieve(_ input: UnsafeRawBufferPointer) {
        guard let seed = input.first else { return }
        let bytes = ArraySlice(Array(input.dropFirst()))
        let limits = seed & 0x80 != 0
            ? ManageSieveLimits(maxLiteralBytes: 64, maxLineBytes: 64, maxResponseLines: 8)
            : ManageSieveLimits.default
        var parser = ManageSieveResponseParser(limits: limits)
        do {
            for chunk in chunks(bytes, seed: seed) {
                parser.append(chunk)
                while let line = try parser.nextLine() {
                    _ = try? ManageSieveResponse.completion(line)
                }
            }
        } catch {
            parser.discardBuffered()
        }
    }

    static func smtp(_ input: UnsafeRawBufferPointer) {
        guard let seed = input.first else { return }
        let bytes = ArraySlice(Array(input.dropFirst()))
        let configuration = SMTPSession.Configuration(
            mode: seed & 0x80 != 0 ? .lmtp : .smtp, hostname: "fuzz.example", maximumMessageSize: 1 << 16,
            maximumRecipients: 8, offersStartTLS: seed & 0x40 != 0)
        var connection = SMTPServerConnection(configuration: configuration)
        var pending = connection.start()
        var recipients = 0
        func answer(_ actions: [SMTPSession.Action]) -> [SMTPSession.Action] {
            var more: [SMTPSession.Action] = []
            for action in actions {
                switch action {
                case .checkRecipient:
                    recipients += 1
                    let decision: SMTPSession.RecipientDecision = recipients % 3 == 0 ? .reject(.userUnknown) : .accept
                    more += connection.handle(.recipientChecked(decision))
                case .finishMessage(let envelope, _):
                    if configuration.mode == .lmtp {
                        let outcomes = envelope.recipients.indices.map { $0 % 2 == 0 ? SMTPSession.RecipientOutcome.stored : .failed(.insufficientStorage) }
                        more += connection.handle(.messageStored(.perRecipient(outcomes)))
                    } else {
                        more += connection.handle(.messageStored(.stored(id: nil)))
                    }
                case .startTLS:
                    more += connection.handle(.tlsStarted)
                default:
                    break
                }
            }
            return more
        }
        for chunk in chunks(bytes, seed: seed) {
            pending += connection.receive(chunk)
            var rounds = 0
            while !pending.isEmpty, rounds < 10_000 {
                pending = answer(pending)
                rounds += 1
            }
        }
        _ = connection.handle(.connectionClosed)
        // The command parser on its own, on every line.
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            _ = try? SMTPCommandParser.parse(line.last == 13 ? line.dropLast() : line)
        }
    }

    static func lmtpReply(_ input: UnsafeRawBufferPointer) {
        guard let seed = input.first else { return }
        var parser = SMTPClientReplyParser()
        do {
            for chunk in chunks(ArraySlice(Array(input.dropFirst())), seed: seed) {
                parser.feed(chunk)
                while let reply = try parser.next() { _ = reply.description }
            }
        } catch {}
    }
}
