import NIOCore
import SMTPCore

/// Answers a connection the server will not serve (over the connection limit, or shutting down) with one 421
/// reply and closes it (RFC 5321 section 3.1: a server may refuse a session with 421 in the greeting).
final class RefusingHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let reply: SMTPReply

    init(reply: SMTPReply) {
        self.reply = reply
    }

    func channelActive(context: ChannelHandlerContext) {
        let buffer = context.channel.allocator.buffer(bytes: reply.bytes)
        context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in
            context.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension RefusingHandler: Sendable {}

extension SMTPReply {
    /// 421 4.3.2 for a connection over the configured limit.
    static func tooManyConnections(hostname: String) -> SMTPReply {
        SMTPReply(421, .init(4, 3, 2), "\(hostname) too many connections, try again later")
    }

    /// 421 4.7.0 for a connection over the limit for one client address.
    static func tooManyConnectionsFromAddress(hostname: String) -> SMTPReply {
        SMTPReply(421, .init(4, 7, 0), "\(hostname) too many connections from your address, try again later")
    }
}
