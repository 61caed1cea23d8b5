import CZstd
import FerryArchive
import Foundation
import MailModel
import SystemLayer

/// Archive targets. Each writes an archive file (the readers take a path) and reads it as `inspect` does
/// (no key) and as `verify`/`import` do (with the format-spec vectors' test key, so that fuzzed statements and
/// manifests get past the signature and reach the parsers behind it).
enum ArchiveFuzz {
    /// The fuzz input as a whole archive file: opened, inspected without a key, verified with the test key.
    static func archive(_ input: UnsafeRawBufferPointer) {
        FuzzFiles.withFile(input) { path in
            readAsInspect(path)
            verify(path)
        }
    }

    /// The fuzz input as manifest lines, each decoded by the canonical fast path and by JSONDecoder: the fast
    /// path must give nil or JSONDecoder's value, never a value where JSONDecoder throws.
    static func manifestLine(_ input: UnsafeRawBufferPointer) {
        var start = 0
        for i in 0...input.count where i == input.count || input[i] == UInt8(ascii: "\n") {
            let line = UnsafeRawBufferPointer(rebasing: input[start..<i])
            precondition(ManifestLineFastPathCheck.agrees(line), "the fast path and JSONDecoder disagree")
            start = i + 1
        }
    }

    /// The fuzz input as the end of an archive file: only the seek table and the last frame are read.
    static func seekTable(_ input: UnsafeRawBufferPointer) {
        FuzzFiles.withFile(input) { path in
            guard let reader = try? ArchiveReader(path: path) else { return }
            _ = try? reader.statementWithoutSignature()
        }
    }

    /// The fuzz input as the statement, signed by the test key, over an archive holding the vectors' manifest.
    static func statement(_ input: UnsafeRawBufferPointer) {
        let statement = [UInt8](input)
        guard !statement.isEmpty, statement.count <= 16 * 1024 else { return }
        let bytes = ArchiveBuilder.build(items: [], manifest: FuzzData.vectorManifest, statement: statement)
        FuzzFiles.withFile(bytes) { path in
            readAsInspect(path)
            verify(path)
        }
    }

    /// The fuzz input as the manifest of an archive without items; the statement names it and is signed.
    static func manifest(_ input: UnsafeRawBufferPointer) {
        let manifest = [UInt8](input)
        let bytes = ArchiveBuilder.build(items: [], manifest: manifest, statement: nil)
        FuzzFiles.withFile(bytes) { path in
            readAsInspect(path)
            verify(path)
        }
    }

    /// Separates the item region's tar bytes from the manifest in a `tar` input.
    static let separator = Array("\n--mailferry-fuzz-manifest--\n".utf8)

    /// The fuzz input as `TAR_BYTES <separator> MANIFEST`: the tar bytes become the item frame, the manifest
    /// follows, and the statement is made for them and signed.
    static func tar(_ input: UnsafeRawBufferPointer) {
        let bytes = [UInt8](input)
        guard let cut = bytes.firstRange(of: separator) else { return }
        let items = Array(bytes[..<cut.lowerBound])
        let manifest = Array(bytes[cut.upperBound...])
        let archive = ArchiveBuilder.build(items: items, manifest: manifest, statement: nil)
        FuzzFiles.withFile(archive) { path in
            verify(path)
            listEntries(path)
            // The per-user path that parallel import takes.
            if let reader = try? ArchiveReader(path: path), (try? reader.verifySignature(with: FuzzKey.publicKey)) != nil,
               let manifest = try? reader.loadManifest(), let runs = try? manifest.userEntries()
            {
                for run in runs.values.sorted(by: { $0.user < $1.user }) {
                    guard let stream = try? reader.items(manifest, of: run) else { continue }
                    while let (_, body) = try? stream.next() {
                        try? body.stream { _ in }
                        try? body.check()
                    }
                }
            }
        }
    }

    /// `verify` as the command runs it: with the progress callbacks, whose totals come from the stated counts.
    static func verify(_ path: String) {
        var total: (Int, Int64) = (0, 0)
        _ = try? ArchiveVerifier.verify(path: path, trust: FuzzKey.publicKey, started: { total = ($0, $1) }, progress: { _, _ in })
        _ = total
    }

    /// What `inspect --list` shows of each entry (and the reconcile after an import compares): its dates.
    static func listEntries(_ path: String) {
        guard let reader = try? ArchiveReader(path: path), (try? reader.verifySignature(with: FuzzKey.publicKey)) != nil,
              let manifest = try? reader.loadManifest()
        else { return }
        let entries = manifest.entries()
        while let entry = try? entries.next() {
            if let date = entry.message?.internalDate { _ = date.iso8601 }
        }
    }

    /// What `inspect` reads without a key: the statement, the manifest's head, and one entry by its record.
    static func readAsInspect(_ path: String) {
        guard let reader = try? ArchiveReader(path: path) else { return }
        guard let statement = try? reader.statementWithoutSignature() else { return }
        _ = statement.created
        guard let head = try? reader.manifestHead() else { return }
        for user in head.users { _ = user.counts.items }
    }
}

/// The format-spec vectors' test key (TEST-ONLY-DO-NOT-USE.key.pem, public in the repository), so that the fuzzer
/// can reach what lies behind a valid signature.
enum FuzzKey {
    static let pem = """
        -----BEGIN PRIVATE KEY-----
        MC4CAQAwBQYDK2VwBCIEIApRjCilU7i5vRGCLm2F6biGEYJhXxPryh13tseWRcjz
        -----END PRIVATE KEY-----

        """
    nonisolated(unsafe) static let signingKey: SigningKey = {
        let path = FuzzFiles.directory + "/test-key.pem"
        FileManager.default.createFile(atPath: path, contents: Data(pem.utf8))
        defer { unlink(path) }
        return try! SigningKey(pemFile: path)
    }()
    nonisolated(unsafe) static let publicKey: PublicKey = try! signingKey.publicKey
}

enum FuzzData {
    /// The vectors' manifest (format-spec/vectors/manifest.jsonl), its archive line agreeing with the test key.
    static let vectorManifest: [UInt8] = {
        var root = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { root.deleteLastPathComponent() }
        return (try? [UInt8](Data(contentsOf: root.appendingPathComponent("format-spec/vectors/manifest.jsonl")))) ?? []
    }()
}

/// One private folder per process for the files the readers need.
enum FuzzFiles {
    static let directory: String = {
        let base = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
        let path = "\(base)/mailferry-fuzz-\(getpid())"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    static func withFile(_ bytes: UnsafeRawBufferPointer, _ body: (String) -> Void) {
        let path = directory + "/input"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { return }
        var done = 0
        while done < bytes.count {
            let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n <= 0 { break }
            done += n
        }
        close(fd)
        body(path)
    }

    static func withFile(_ bytes: [UInt8], _ body: (String) -> Void) {
        bytes.withUnsafeBytes { withFile($0, body) }
    }
}

/// Lays out an archive as ArchiveWriter does: item frames, the manifest's frame, the last frame (statement,
/// signature, end of archive), the seek table. Without a statement it makes one that matches and signs it.
enum ArchiveBuilder {
    static func build(items: [UInt8], manifest: [UInt8], statement given: [UInt8]?) -> [UInt8] {
        var plainFrames: [[UInt8]] = []
        // One item frame, as the format-spec vectors have (their manifest names frame 0 for every entry).
        if !items.isEmpty { plainFrames.append(items) }
        let manifestFrame = plainFrames.count
        plainFrames.append(member(EntryPath.manifest, manifest))
        let statement = given ?? makeStatement(manifest: manifest, offset: Int64(items.count), frame: manifestFrame)
        let signature = (try? FuzzKey.signingKey.sign(statement)) ?? [UInt8](repeating: 0, count: 64)
        plainFrames.append(member(EntryPath.statement, statement) + member(EntryPath.signature, signature) + [UInt8](repeating: 0, count: 1024))
        var out: [UInt8] = []
        var table: [(compressed: Int, plain: Int)] = []
        for plain in plainFrames {
            let compressed = compress(plain)
            out += compressed
            table.append((compressed.count, plain.count))
        }
        return out + seekTable(table)
    }

    /// The zstd seekable format's table (SeekTable's layout): skippable frame, entries, footer, little-endian.
    static func seekTable(_ frames: [(compressed: Int, plain: Int)]) -> [UInt8] {
        var out: [UInt8] = []
        func le(_ v: Int) { for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: v >> shift)) } }
        le(0x184D_2A5E)
        le(frames.count * 8 + 9)
        for f in frames {
            le(f.compressed)
            le(f.plain)
        }
        le(frames.count)
        out.append(0)
        le(0x8F92_EAB1)
        return out
    }

    /// A statement for the manifest, taking the archive id, creation time and version from its first line when
    /// that line is an archive record (so that a fuzzed manifest can agree with its statement).
    static func makeStatement(manifest: [UInt8], offset: Int64, frame: Int) -> [UInt8] {
        let firstLine = manifest.split(separator: UInt8(ascii: "\n"), maxSplits: 1, omittingEmptySubsequences: false).first ?? []
        let record = (try? JSONSerialization.jsonObject(with: Data(firstLine))) as? [String: Any]
        let archive = record?["archive"] as? [String: Any]
        let object: [String: Any] = [
            "format": ArchiveFormat.statementName, "version": ArchiveFormat.statementVersion,
            "archiveFormat": ArchiveFormat.name, "archiveVersion": archive?["version"] as? Int ?? ArchiveFormat.version,
            "archiveID": archive?["archiveID"] as? String ?? "00112233445566778899aabbccddeeff",
            "created": archive?["created"] as? String ?? "2023-11-14T22:13:20Z",
            "signerKeyID": FuzzKey.publicKey.keyID,
            "manifest": [
                "path": EntryPath.manifest, "size": manifest.count, "sha256": SHA256.hex(manifest), "offset": Int(offset),
                "frame": frame,
            ] as [String: Any],
        ]
        return [UInt8]((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data())
    }

    /// A ustar header and the data padded to whole blocks.
    static func member(_ name: String, _ data: [UInt8]) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int) {
            for (i, b) in text.utf8.enumerated() { h[offset + i] = b }
        }
        func octal(_ value: Int, at offset: Int, width: Int) {
            let digits = String(value, radix: 8)
            put(String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits, at: offset)
        }
        put(name, at: 0)
        octal(0o644, at: 100, width: 8)
        octal(0, at: 108, width: 8)
        octal(0, at: 116, width: 8)
        octal(data.count, at: 124, width: 12)
        octal(1_700_000_000, at: 136, width: 12)
        h[156] = UInt8(ascii: "0")
        put("ustar", at: 257)
        put("00", at: 263)
        for i in 148..<156 { h[i] = 0x20 }
        let sum = h.reduce(0) { $0 + Int($1) }
        let digits = String(sum, radix: 8)
        put(String(repeating: "0", count: 6 - digits.count) + digits, at: 148)
        h[154] = 0
        h[155] = 0x20
        return h + data + [UInt8](repeating: 0, count: (512 - data.count % 512) % 512)
    }

    /// A frame with the content size and checksum, which the reader requires of every MailFerry frame.
    static func compress(_ plain: [UInt8]) -> [UInt8] {
        guard let context = ZSTD_createCCtx() else { return [] }
        defer { ZSTD_freeCCtx(context) }
        ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1)
        ZSTD_CCtx_setParameter(context, ZSTD_c_contentSizeFlag, 1)
        var out = [UInt8](repeating: 0, count: ZSTD_compressBound(plain.count))
        let n = out.withUnsafeMutableBytes { o in
            plain.withUnsafeBytes { p in ZSTD_compress2(context, o.baseAddress, o.count, p.baseAddress, p.count) }
        }
        guard ZSTD_isError(n) == 0 else { return [] }
        return Array(out.prefix(n))
    }
}
