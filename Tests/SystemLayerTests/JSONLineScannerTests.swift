import Foundation
import Testing

@testable import SystemLayer

/// JSONLineScanner, the journals' fast path: on every line it reads it agrees with JSONDecoder, and it gives up
/// (nil) on lines it does not fully understand rather than guess.
@Suite struct JSONLineScannerTests {
    struct Sample: Codable, Equatable, JSONLineFastDecodable {
        var text: String?
        var number: Int64?
        var inner: Inner?
        struct Inner: Codable, Equatable {
            var name: String
            var uid: UInt32?
        }

        static func decodeLine(_ scanner: inout JSONLineScanner) -> Sample? {
            var sample = Sample()
            let read = scanner.object { name, value in
                switch name {
                case "text":
                    sample.text = value.string()
                    return sample.text != nil
                case "number":
                    sample.number = value.int64()
                    return sample.number != nil
                case "inner":
                    var inner = Inner(name: "", uid: nil)
                    var named = false
                    let whole = value.object { name, value in
                        switch name {
                        case "name":
                            guard let text = value.string() else { return false }
                            inner.name = text
                            named = true
                            return true
                        case "uid":
                            inner.uid = value.uint32()
                            return inner.uid != nil
                        default: return false
                        }
                    }
                    guard whole, named else { return false }
                    sample.inner = inner
                    return true
                default: return false
                }
            }
            return read ? sample : nil
        }
    }

    static func fast(_ line: String) -> Sample? {
        Array(line.utf8).withUnsafeBytes { raw in
            var scanner = JSONLineScanner(raw)
            guard let sample = Sample.decodeLine(&scanner), scanner.atEnd() else { return nil }
            return sample
        }
    }

    static func slow(_ line: String) -> Sample? { try? JSONDecoder().decode(Sample.self, from: Data(line.utf8)) }

    @Test func encodedSamplesReadTheSameAsJSONDecoderReadsThem() throws {
        let pieces = ["a", "/", "\"", "\\", "\u{0}", "\u{1F}", "\t", "\n", "é", "日本", "😀", "\u{2028}", "\u{7F}", "\u{FEFF}", " "]
        var rng = SystemRandomNumberGenerator()
        let plain = JSONEncoder()
        let canonical = JSONEncoder()
        canonical.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for _ in 0..<2000 {
            func text() -> String { (0..<Int.random(in: 0...6, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined() }
            let sample = Sample(
                text: Bool.random(using: &rng) ? text() : nil,
                number: Bool.random(using: &rng) ? Int64.random(in: Int64.min...Int64.max, using: &rng) : nil,
                inner: Bool.random(using: &rng) ? Sample.Inner(name: text(), uid: Bool.random(using: &rng) ? UInt32.random(in: 0...UInt32.max, using: &rng) : nil) : nil)
            for encoder in [plain, canonical] {
                let line = String(decoding: try encoder.encode(sample), as: UTF8.self)
                #expect(Self.fast(line) == sample, "\(line)")
                #expect(Self.slow(line) == sample, "\(line)")
            }
        }
    }

    @Test func escapesAndSpacingReadAsJSONDecoderReadsThem() {
        for line in [
            #"{"text":"\ud83d\ude00 \u00e9\u0041\/\b\f\n\r\t"}"#,
            #" { "number" : -0 , "inner" : { "uid" : 4294967295 , "name" : "" } } "#,
            #"{}"#,
        ] {
            #expect(Self.fast(line) != nil, "\(line)")
            #expect(Self.fast(line) == Self.slow(line), "\(line)")
        }
    }

    @Test func linesItDoesNotFullyUnderstandAreLeftToJSONDecoder() {
        for line in [
            #"{"number":1.5}"#, #"{"number":1e3}"#, #"{"text":null}"#, #"{"number":99999999999999999999}"#,
            #"{"inner":{"name":"a","uid":4294967296}}"#, #"{"inner":{"uid":1}}"#, #"{"text":"\ud800"}"#,
            #"{"text":"\udc00x"}"#, #"{"text":"\x"}"#, #"{"other":1}"#, #"{"text":"a"} x"#, #"{"text":"a""#,
            "{\"text\":\"a\u{1}\"}", #"{"text":"a",}"#, #"["text"]"#, #"{"text":"x","text":"y"}"#,
        ] {
            #expect(Self.fast(line) == nil, "\(line)")
        }
    }

    /// JSONLinesFile reads a fast-decodable type through it, and a line it gives up on through JSONDecoder.
    @Test func journalsAreReadThroughTheFastPathAndFallBack() throws {
        let path = NSTemporaryDirectory() + "/scanner-\(UUID().uuidString).jsonl"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try (#"{"text":"a"}"# + "\n" + #"{"number":2.0}"# + "\n" + #"{"inner":{"name":"n","uid":7}}"# + "\n")
            .write(toFile: path, atomically: true, encoding: .utf8)
        var read: [Sample] = []
        try JSONLinesFile.forEachRecord(in: path, as: Sample.self) { read.append($0) }
        #expect(read == [Sample(text: "a"), Sample(number: 2), Sample(inner: .init(name: "n", uid: 7))])
    }
}
