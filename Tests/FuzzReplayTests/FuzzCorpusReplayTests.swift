import Foundation
import TestSupport
import Testing

/// Every stored fuzz input (Fuzz/corpus/TARGET, and the crashes fixed since, Fuzz/crashes/TARGET) replayed
/// through its target by the normally built fuzz executables: a parser that traps on one again fails here.
@Suite(.blocking) struct FuzzCorpusReplayTests {
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static func binary(_ name: String) -> String {
        let neighbour = URL(fileURLWithPath: BuiltBinary.path).deletingLastPathComponent().appendingPathComponent(name).path
        return FileManager.default.isExecutableFile(atPath: neighbour) ? neighbour : root + "/.build/debug/\(name)"
    }

    static let products = ["mailferry-fuzz", "mailferry-fuzz-config"]

    /// Each target's product, as the products list them.
    static func listed() throws -> [String: String] {
        var owner: [String: String] = [:]
        for product in products {
            let listed = try ProcessRunner.run(binary(product), ["list"], limit: 60)
            #expect(listed.status == 0, "\(product) list: \(listed.stderr)")
            for name in listed.stdout.split(separator: "\n") { owner[String(name)] = product }
        }
        return owner
    }

    static let storedTargets: [String] = {
        let corpus = (try? FileManager.default.contentsOfDirectory(atPath: root + "/Fuzz/corpus")) ?? []
        let crashes = (try? FileManager.default.contentsOfDirectory(atPath: root + "/Fuzz/crashes")) ?? []
        return Set(corpus + crashes).filter { !$0.hasPrefix(".") }.sorted()
    }()

    @Test func everyTargetHasACorpusAndEveryStoredFolderATarget() throws {
        let owner = try Self.listed()
        #expect(owner.count >= 14)
        for name in owner.keys {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: Self.root + "/Fuzz/corpus/\(name)")) ?? []
            #expect(!files.isEmpty, "Fuzz/corpus/\(name) is empty")
        }
        for name in Self.storedTargets { #expect(owner[name] != nil, "Fuzz/corpus or Fuzz/crashes has \(name), which no product lists") }
    }

    @Test(arguments: storedTargets)
    func everyStoredInputReplaysWithoutATrap(_ target: String) throws {
        guard let product = try Self.listed()[target] else { return }
        let result = try ProcessRunner.run(
            Self.binary(product), [target, Self.root + "/Fuzz/corpus/\(target)", Self.root + "/Fuzz/crashes/\(target)"],
            adding: ["SWIFT_BACKTRACE": "enable=no"], limit: 600)
        let last = result.stderr.split(separator: "\n").last.map(String.init) ?? ""
        #expect(result.status == 0, "\(target) trapped or failed (status \(result.status)) on the last input named: \(last)\n\(result.stderr.suffix(2000))")
        #expect(result.stdout.contains("inputs replayed"))
    }
}
