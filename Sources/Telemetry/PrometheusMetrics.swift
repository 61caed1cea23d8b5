import CoreMetrics
import Prometheus

/// One service's metrics: the Prometheus registry the endpoint renders, and the swift-metrics factory the
/// service records through. Kept apart from swift-metrics' process-wide bootstrap, so each server has its own.
public struct PrometheusMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    public let factory: any MetricsFactory

    /// `durationBuckets`: histogram buckets for the `Timer` labels named (others get swift-prometheus' defaults).
    public init(durationBuckets: [String: [Duration]] = [:]) {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = durationBuckets
        self.registry = registry
        self.factory = factory
    }

    /// The text exposition format (version 0.0.4) of every metric.
    public func render() -> [UInt8] {
        registry.emitToBuffer()
    }
}
