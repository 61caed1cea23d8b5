import NIOCore
import NIOHTTP1
import NIOPosix

/// The HTTP listener a Prometheus server scrapes: `GET /metrics` on the address of `[metrics] listen`.
public enum MetricsEndpoint {
    /// Binds `host:port` (port 0: any free port; the channel's `localAddress` tells which) on `group`.
    /// `beforeScrape` runs before each rendering, off the event loop (it may read a database).
    public static func bind(
        host: String, port: Int, metrics: PrometheusMetrics, group: any EventLoopGroup,
        beforeScrape: @escaping @Sendable () async -> Void = {}
    ) async throws -> any Channel {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(
                        MetricsHTTPHandler(metrics: metrics, beforeScrape: beforeScrape))
                }
            }
            .bind(host: host, port: port).get()
    }
}
