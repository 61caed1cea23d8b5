import BufferSpool
import Connectors
import MailModel
import NIOCore

/// Serves one control connection (see `BufferControl`): reads one request line, performs it on the spool off the
/// event loop, writes the JSON response and closes.
final class ControlHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let spool: any SpoolStore
    private var line: [UInt8] = []
    private var answered = false

    /// The delivery options with the configuration file's `[imap]` section as it is now: read for each release,
    /// so a changed section takes effect without a restart.
    private let delivery: @Sendable () throws -> ConnectorOptions

    /// Where a release's progress is counted (`mailferry_buffer_release_*`) and what changed is logged.
    private let telemetry: BufferTelemetry

    init(spool: any SpoolStore, delivery: @escaping @Sendable () throws -> ConnectorOptions, telemetry: BufferTelemetry) {
        self.spool = spool
        self.delivery = delivery
        self.telemetry = telemetry
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !answered else { return }
        var buffer = unwrapInboundIn(data)
        line += buffer.readBytes(length: buffer.readableBytes) ?? []
        guard let newline = line.firstIndex(of: 10) else {
            if line.count > BufferControl.maximumRequestLength {
                answer(BufferControl.Response(ok: false, error: "request line too long"), context: context)
            }
            return
        }
        var text = String(decoding: line[..<newline], as: UTF8.self)
        if text.hasSuffix("\r") { text.removeLast() }
        guard let request = BufferControl.Request(line: text) else {
            answer(BufferControl.Response(ok: false, error: "unknown request (status, hold USER, unhold USER)"), context: context)
            return
        }
        answered = true
        let spool = self.spool
        let delivery = self.delivery
        let channel = context.channel
        let telemetry = self.telemetry
        let metrics = telemetry.metrics
        // SQLite writes fsync: not on the event loop.
        Task(executorPreference: SpoolExecutor.shared) {
            var relay: ((ReleaseProgress) -> Void)?
            if case .release(let parameters) = request {
                let asksForLines = parameters.reportsProgress == true
                // A line every tenth of a second at most (and the first and the last), not one per message.
                var last = ContinuousClock.now - .seconds(1)
                relay = { progress in
                    metrics.releaseProgressed(user: parameters.user, progress)
                    guard asksForLines else { return }
                    let now = ContinuousClock.now
                    guard progress.done == 0 || progress.done >= progress.total || now - last >= .milliseconds(100) else { return }
                    last = now
                    channel.writeAndFlush(channel.allocator.buffer(bytes: BufferControl.encode(progress)), promise: nil)
                }
            }
            let response: BufferControl.Response
            do {
                // Only a release needs the [imap] section; a configuration file broken since the start must not
                // stop status, hold or close.
                var options = ConnectorOptions()
                if case .release = request { options = try delivery() }
                response = BufferControl.perform(request, on: spool, delivery: options, progress: relay)
            } catch {
                let failure = FerryError.from(error)
                response = BufferControl.Response(
                    ok: false, error: "\(failure.description) (the [imap] section is read again for each release)",
                    exitStatus: failure.status.rawValue)
            }
            telemetry.logControl(request, response)
            let buffer = channel.allocator.buffer(bytes: BufferControl.encode(response))
            try? await channel.writeAndFlush(buffer)
            try? await channel.close()
        }
    }

    private func answer(_ response: BufferControl.Response, context: ChannelHandlerContext) {
        answered = true
        let buffer = context.channel.allocator.buffer(bytes: BufferControl.encode(response))
        context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in context.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension ControlHandler: Sendable {}
