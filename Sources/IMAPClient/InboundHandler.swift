import NIOCore

/// The last handler in the pipeline: passes received bytes to the queue and holds back reads while it is full.
final class InboundHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let queue: InboundQueue
    init(queue: InboundQueue) { self.queue = queue }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        queue.push(unwrapInboundIn(data))
    }

    func read(context: ChannelHandlerContext) {
        if queue.mayRead() { context.read() }
    }

    func channelInactive(context: ChannelHandlerContext) {
        queue.finish(nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        queue.finish(error)
        context.close(promise: nil)
    }
}
