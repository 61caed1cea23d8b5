import Dispatch
import NIOCore
import NIOHTTP1

/// Answers `GET /metrics` (and `HEAD`) with the Prometheus text format; every other path is 404, every other
/// method 405. Each response closes the connection: a scraper connects once per scrape.
final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let metrics: PrometheusMetrics
    private let beforeScrape: @Sendable () -> Void
    /// Where `beforeScrape` runs: a queue of this endpoint's own, not the event loop (it may wait for a
    /// database) and not Swift's cooperative pool (a busy process can hold every thread of it).
    private let scrapeQueue: DispatchQueue
    private var request: HTTPRequestHead?
    /// The connection went away while the gauges were read: nothing is written.
    private var isRemoved = false

    init(metrics: PrometheusMetrics, scrapeQueue: DispatchQueue, beforeScrape: @escaping @Sendable () -> Void) {
        self.metrics = metrics
        self.scrapeQueue = scrapeQueue
        self.beforeScrape = beforeScrape
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            request = head
        case .body:
            break  // a scrape has no body; anything sent is ignored
        case .end:
            guard let head = request else { return }
            request = nil
            respond(to: head, context: context)
        }
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        if path != "/metrics" {
            write(.notFound, Array("not found: the metrics are at /metrics\n".utf8), to: head, context: context)
        } else if head.method != .GET && head.method != .HEAD {
            write(.methodNotAllowed, Array("only GET and HEAD\n".utf8), to: head, context: context)
        } else {
            // Gauges read at scrape time (free space, held mail) are brought up to date first, off the event
            // loop: reading them may wait for the spool's database.
            let loop = context.eventLoop
            let bound = NIOLoopBound((handler: self, context: context), eventLoop: loop)
            let refreshed = loop.makePromise(of: Void.self)
            let beforeScrape = self.beforeScrape
            scrapeQueue.async {
                beforeScrape()
                refreshed.succeed()
            }
            let metrics = self.metrics
            refreshed.futureResult.whenComplete { _ in
                guard !bound.value.handler.isRemoved else { return }
                bound.value.handler.write(
                    .ok, metrics.render(), contentType: "text/plain; version=0.0.4; charset=utf-8", to: head,
                    context: bound.value.context)
            }
        }
    }

    private func write(
        _ status: HTTPResponseStatus, _ body: [UInt8], contentType: String = "text/plain; charset=utf-8",
        to head: HTTPRequestHead, context: ChannelHandlerContext
    ) {
        var body = body
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: String(body.count))
        headers.add(name: "Connection", value: "close")
        if head.method == .HEAD { body = [] }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        if !body.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        isRemoved = true
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A malformed request or a reset ends this connection only.
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension MetricsHTTPHandler: Sendable {}
