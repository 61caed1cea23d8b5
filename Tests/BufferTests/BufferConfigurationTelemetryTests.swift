import Buffer
import Testing
import Telemetry

/// `[log] format` and `[metrics] listen`: optional, checked, errors name the key.
@Suite struct BufferConfigurationTelemetryTests: ConfigurationCases {
    @Test func logFormatIsPlainUnlessJSONIsAsked() throws {
        #expect(try BufferConfiguration.parse(text()).logFormat == .plain)
        #expect(try BufferConfiguration.parse(text() + "[log]\nformat = \"json\"\n").logFormat == .json)
        #expect(try BufferConfiguration.parse(text() + "[log]\nformat = \"plain\"\n").logFormat == .plain)
        for bad in ["format = \"xml\"", "format = 1", "level = \"debug\""] {
            #expect(failure(text() + "[log]\n\(bad)\n").hasPrefix("buffer.toml: log."), "\(bad)")
        }
    }

    @Test func metricsListenIsAnAddress() throws {
        #expect(try BufferConfiguration.parse(text()).metrics == nil)
        let metrics = try BufferConfiguration.parse(text() + "[metrics]\nlisten = \"127.0.0.1:9464\"\n").metrics
        #expect(metrics?.host == "127.0.0.1" && metrics?.port == 9464)
        #expect(try BufferConfiguration.parse(text() + "[metrics]\nlisten = \"[::1]:9464\"\n").metrics?.host == "::1")
        for bad in ["listen = \"9464\"", "listen = \"127.0.0.1:99999\"", "port = 9464", ""] {
            #expect(failure(text() + "[metrics]\n\(bad)\n").hasPrefix("buffer.toml: metrics."), "\(bad)")
        }
    }
}
