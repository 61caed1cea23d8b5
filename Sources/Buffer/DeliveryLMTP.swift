import BufferSpool

/// Delivers held mail to an LMTP server (Dovecot, Cyrus, Postfix's lmtp). The server cannot be asked whether a
/// message arrived, so after a crash between its 250 and the journal's `markDelivered` the message is sent again:
/// at least once, with a window of one message per crash.
final class DeliveryLMTP: DeliveryTarget {
    let endpoint: LMTPClient.Endpoint
    var address: String { endpoint.description }
    var recognisesDeliveries: Bool { false }
    private var client: LMTPClient?

    init(endpoint: LMTPClient.Endpoint) throws {
        self.endpoint = endpoint
        client = try LMTPClient(endpoint: endpoint)  // fail early, before anything is journalled
    }

    func deliver(_ message: HeldMessage, user: String, from spool: any SpoolStore) throws -> Bool {
        let connection = try client ?? LMTPClient(endpoint: endpoint)
        client = connection
        do {
            let replies = try connection.send(from: message.envelope.sender, to: [user]) { write in
                try spool.readMessage(message.id) { chunk in try write(chunk) }
            }
            guard let reply = replies.first?.reply, reply.isPositive else {
                throw LMTPClientError.refused(step: "message \(message.id) for <\(user)>", reply: replies.first!.reply)
            }
            return true
        } catch {
            // A refusal before DATA leaves the session usable; anything else: a fresh connection next time.
            if case LMTPClientError.refused = error, connection.isOpen {} else { client = nil }
            throw error
        }
    }

    func close() {
        client?.quit()
        client = nil
    }
}
