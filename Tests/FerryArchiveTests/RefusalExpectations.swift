import TestSupport
import Foundation
import Testing
@testable import FerryArchive

/// The step of reading at which an archive was refused, in the order import takes them.
enum ReadStage: String, CustomStringConvertible {
    case open          // ArchiveReader(path:)
    case signature     // verifySignature(with:)
    case manifest      // loadManifest()
    case items         // items(_:) and streaming/checking every body
    var description: String { rawValue }
}

/// Reads an archive the way `import` does, step by step, and says where it was refused.
func readLikeImport(_ path: String, trust key: PublicKey) -> (stage: ReadStage, error: any Error)? {
    var stage = ReadStage.open
    do {
        let reader = try ArchiveReader(path: path)
        stage = .signature
        try reader.verifySignature(with: key)
        stage = .manifest
        let manifest = try reader.loadManifest()
        stage = .items
        let items = try reader.items(manifest)
        while let (_, body) = try items.next() {
            try body.stream { _ in }
            try body.check()
        }
        return nil
    } catch {
        return (stage, error)
    }
}

/// Watches the places a careless reader could write to when it meets hostile names: the scratch
/// directory, a target directory inside it, the working directory and the file system root paths
/// the hostile names point at. Reading must leave all of them as they were.
struct ExtractionWatch {
    let scratch: String
    let target: String
    private let scratchListing: [String]
    private let probes: [String: Bool]
    private let passwd: Data?

    /// Names hostile tests use, resolved against every directory a reader might extract into.
    static let hostileLeaves = ["evil.eml", "x.eml", "notes.txt", "u", "mailferry"]

    init(_ dir: TemporaryDirectory) throws {
        scratch = dir.path
        target = dir.file("target")
        try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
        scratchListing = Self.listing(dir.path)
        var probes: [String: Bool] = [:]
        let cwd = FileManager.default.currentDirectoryPath
        for base in [cwd, cwd + "/..", dir.path + "/..", target + "/.."] {
            for leaf in Self.hostileLeaves { probes[base + "/" + leaf] = FileManager.default.fileExists(atPath: base + "/" + leaf) }
        }
        self.probes = probes
        passwd = FileManager.default.contents(atPath: "/etc/passwd")
    }

    static func listing(_ path: String) -> [String] {
        (FileManager.default.subpaths(atPath: path) ?? []).sorted()
    }

    func expectNothingWritten(sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(Self.listing(target).isEmpty, "the target directory was written to", sourceLocation: sourceLocation)
        #expect(Self.listing(scratch) == scratchListing, "files appeared in the scratch directory", sourceLocation: sourceLocation)
        for (path, existed) in probes.sorted(by: { $0.key < $1.key }) where !existed {
            #expect(!FileManager.default.fileExists(atPath: path), "\(path) was created", sourceLocation: sourceLocation)
        }
        #expect(FileManager.default.contents(atPath: "/etc/passwd") == passwd, "/etc/passwd changed", sourceLocation: sourceLocation)
    }
}

/// Checks that `ArchiveVerifier.verify` refuses the archive with the expected kind of error, that
/// reading it step by step like import throws the same error at the expected stage, and that no
/// file was written anywhere while doing so.
@discardableResult
func expectRefused(
    _ path: String, trust key: PublicKey, in dir: TemporaryDirectory,
    stage: ReadStage? = nil, kind: ArchiveError.Kind? = .verification,
    at location: String? = nil, saying message: String? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
) throws -> ArchiveError? {
    let watch = try ExtractionWatch(dir)
    let verifyError: ArchiveError?
    do {
        let result = try ArchiveVerifier.verify(path: path, trust: key)
        Issue.record("the archive verified (\(result.entries) entries) but should have been refused", sourceLocation: sourceLocation)
        verifyError = nil
    } catch let e as ArchiveError {
        verifyError = e
    } catch {
        Issue.record("verify threw \(type(of: error)) \(error), not an ArchiveError", sourceLocation: sourceLocation)
        verifyError = nil
    }
    let stepwise = readLikeImport(path, trust: key)
    watch.expectNothingWritten(sourceLocation: sourceLocation)
    guard let verifyError else { return nil }
    #expect(stepwise != nil, "reading like import accepted what verify refused: \(verifyError)", sourceLocation: sourceLocation)
    if let stepwise {
        #expect(stepwise.error as? ArchiveError == verifyError, "import-style reading: \(stepwise.error)", sourceLocation: sourceLocation)
        if let stage { #expect(stepwise.stage == stage, "refused at \(stepwise.stage): \(verifyError)", sourceLocation: sourceLocation) }
    }
    if let kind { #expect(verifyError.kind == kind, "\(verifyError)", sourceLocation: sourceLocation) }
    if let location {
        #expect(verifyError.location.contains(location), "location of: \(verifyError)", sourceLocation: sourceLocation)
    }
    if let message {
        #expect(verifyError.message.contains(message), "message of: \(verifyError)", sourceLocation: sourceLocation)
    }
    return verifyError
}


extension Array where Element == UInt8 {
    func flipping(_ index: Int, with mask: UInt8 = 0x01) -> [UInt8] {
        var copy = self
        copy[index] ^= mask
        return copy
    }
}
