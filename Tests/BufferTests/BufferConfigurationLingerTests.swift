import Buffer
import Foundation
import Testing

/// `[buffer] linger`: seconds or a number with a unit; errors name the key.
@Suite struct BufferConfigurationLingerTests: ConfigurationCases {
    @Test(arguments: [
        ("linger = \"7d\"", Duration.seconds(7 * 86400)),
        ("linger = \"36h\"", Duration.seconds(36 * 3600)),
        ("linger = \"90m\"", Duration.seconds(90 * 60)),
        ("linger = \"45s\"", Duration.seconds(45)),
        ("linger = 604800", Duration.seconds(604800)),
    ])
    func lingerTakesSecondsOrAUnit(_ line: String, _ expected: Duration) throws {
        #expect(try BufferConfiguration.parse(text(buffer: line)).linger == expected)
    }

    @Test func lingerIsOptionalAndBadValuesAreRefused() {
        #expect((try? BufferConfiguration.parse(text()))?.linger == nil)
        for bad in ["linger = \"7w\"", "linger = \"d\"", "linger = -5", "linger = \"-1h\"", "linger = 1.5"] {
            #expect(failure(text(buffer: bad)).hasPrefix("buffer.toml: buffer.linger: "), "\(bad)")
        }
    }
}
