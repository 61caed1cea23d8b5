import Dispatch
import NIOCore
import NIOHTTP1
import NIOPosix

/// The HTTP listener a Prometheus server scrapes: `GET /metrics` on the address of `[metrics] listen`.
public enum MetricsEndpoint {
    /// Binds `host:port` (port 0: any free port; the channel's `localAddress` tells which) on `group`.
    /// `beforeScrape` runs before each rendering, one scrape at a time, on a dispatch queue of the endpoint's own
    /// (it may read a database: not on the event loop, nor on Swift's cooperative pool).
    public static func bind(
        host: String, port: Int, metrics: PrometheusMetrics, group: any EventLoopGroup,
        beforeScrape: @escaping @Sendable () -> Void = {}
    ) async throws -> any Channel {
        let scrapeQueue = DispatchQueue(label: "mailferry.metrics.scrape")
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(
                        MetricsHTTPHandler(metrics: metrics, scrapeQueue: scrapeQueue, beforeScrape: beforeScrape))
                }
            }
            .bind(host: host, port: port).get()
    }
}
