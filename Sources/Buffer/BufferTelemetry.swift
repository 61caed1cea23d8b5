import Logging

/// What a running buffer reports to its operator: log lines (`[log] format`) and metrics (`[metrics] listen`).
struct BufferTelemetry: Sendable {
    var logger: Logger
    var metrics: BufferMetrics

    /// One line per request that changes the migration set or a user's state (status only reads): who, what,
    /// and for a release its counts. Errors are worded without passwords (`FerryError`).
    func logControl(_ request: BufferControl.Request, _ response: BufferControl.Response) {
        var metadata: Logger.Metadata = ["ok": .stringConvertible(response.ok)]
        switch request {
        case .status: return
        case .hold(let user): metadata["request"] = "hold"; metadata["user"] = .string(user)
        case .unhold(let user): metadata["request"] = "unhold"; metadata["user"] = .string(user)
        case .close(let user): metadata["request"] = "close"; metadata["user"] = .string(user)
        case .release(let parameters):
            metadata["request"] = .string(parameters.undo ? "release undo" : "release")
            metadata["user"] = .string(parameters.user)
        }
        if let report = response.release {
            // The target as the release parsed it (the text asked for is not logged: it may be anything).
            metadata["target"] = .string(report.target)
            metadata["delivered"] = .stringConvertible(report.delivered)
            metadata["already_present"] = .stringConvertible(report.alreadyPresent)
            metadata["failures"] = .stringConvertible(report.failures.count)
            metadata["state"] = .string(report.state.rawValue)
        }
        if var error = response.error {
            // A refused target is quoted in its error as given, and a mistyped one may hold a password.
            if case .release(let parameters) = request, !parameters.target.isEmpty {
                error = error.replacingOccurrences(of: parameters.target, with: "(the target given)")
            }
            metadata["error"] = .string(error)
        }
        logger.log(level: response.ok ? .notice : .warning, "control", metadata: metadata)
    }
}
