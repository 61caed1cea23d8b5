import Logging

/// What a running buffer reports to its operator: log lines (`[log] format`) and metrics (`[metrics] listen`).
struct BufferTelemetry: Sendable {
    var logger: Logger
    var metrics: BufferMetrics
}
