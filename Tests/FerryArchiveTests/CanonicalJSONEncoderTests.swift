import Foundation
import MailModel
import Testing
import TestSupport

@testable import FerryArchive

/// The manifest's own encoder (CanonicalJSONEncoder) writes the same bytes as JSONEncoder with
/// `[.sortedKeys, .withoutEscapingSlashes]`, the form format-spec section 6.1 names, on the records an archive holds.
@Suite struct CanonicalJSONEncoderTests {
    static func foundation(_ value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }

    @Test func randomEntriesAndChangesComeOutAsJSONEncoderWritesThem() throws {
        var g = CanonicalManifestLineTests.Gen(rng: SplitMix64(seed: 17))
        for n in 0..<4000 {
            let line: ManifestLine = n % 2 == 0 ? .entry(g.entry()) : .change(g.change())
            let ours = try CanonicalJSONEncoder().encode(line)
            let theirs = try Self.foundation(line)
            #expect(ours == theirs, "\(String(decoding: ours, as: UTF8.self))\n\(String(decoding: theirs, as: UTF8.self))")
        }
    }

    /// The member-by-member writer of entry and change lines (`ManifestLineWriter`, what the archive writer uses for
    /// them) against JSONEncoder, on random lines of every kind, with and without each optional member.
    @Test func entryAndChangeLinesWrittenMemberByMemberAreJSONEncodersBytes() throws {
        var g = CanonicalManifestLineTests.Gen(rng: SplitMix64(seed: 29))
        for n in 0..<6000 {
            let line: ManifestLine = n % 2 == 0 ? .entry(g.entry()) : .change(g.change())
            let ours = try ManifestCoding.line(line, with: ManifestCoding.encoder())
            let theirs = try Self.foundation(line) + [10]
            #expect(ours == theirs, "\(String(decoding: ours, as: UTF8.self))\n\(String(decoding: theirs, as: UTF8.self))")
            if case .entry(let record) = line {
                let bare = try ManifestCoding.line(record, with: ManifestCoding.encoder())
                #expect(bare == (try Self.foundation(record)) + [10])
            }
        }
    }

    /// Members that come in no particular order (a dictionary, CodingKeys out of order), nested objects and arrays
    /// in arrays, empty ones, and every string that needs escaping.
    @Test func unsortedMembersNestingAndEscapesComeOutAsJSONEncoderWritesThem() throws {
        struct Odd: Codable {
            var zeta: Int
            var alpha: [String: [Int]]
            var middle: [[String]]
            var empty: [String: String]
            var nothing: [Int]
            var inner: Inner?
            var flag: Bool
            struct Inner: Codable {
                var b: String
                var a: UInt64
            }
        }
        var g = CanonicalManifestLineTests.Gen(rng: SplitMix64(seed: 23))
        for _ in 0..<500 {
            var alpha: [String: [Int]] = [:]
            for _ in 0..<g.int(0...5) { alpha[g.string()] = (0..<g.int(0...3)).map { _ in g.smallInt() } }
            let value = Odd(
                zeta: g.smallInt(), alpha: alpha, middle: (0..<g.int(0...3)).map { _ in g.strings() }, empty: [:],
                nothing: [], inner: g.chance(50) ? Odd.Inner(b: g.string(), a: UInt64.max) : nil, flag: g.chance(50))
            let ours = try CanonicalJSONEncoder().encode(value)
            #expect(ours == (try Self.foundation(value)), "\(String(decoding: ours, as: UTF8.self))")
        }
    }

    @Test func aFractionIsRefused() {
        struct WithFraction: Encodable { var ratio = 0.5 }
        #expect(throws: CanonicalJSONError.self) { try CanonicalJSONEncoder().encode(WithFraction()) }
    }
}
