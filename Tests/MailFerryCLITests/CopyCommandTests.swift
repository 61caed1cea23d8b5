import Foundation
import SystemLayer
import TestSupport
import Testing

/// `mailferry copy` as a user runs it: the printed SHA-256 is what `sha256sum` says, the copy verifies, a kill -9
/// is resumed from the verified prefix, a damaged prefix starts over, and a medium that is too small (a tmpfs with
/// a size limit) or a FAT32 one (when a loop-mounted image can be made here) is refused before a byte is written.
@Suite(.serialized, .blocking) struct CopyCommandTests {
    /// The SHA-256 the command printed for `path`.
    static func printedHash(_ output: String, for path: String) -> String? {
        for line in output.split(separator: "\n") where line.hasPrefix(path + ":") {
            if let range = line.range(of: "SHA-256 ") { return String(line[range.upperBound...].prefix(64)) }
        }
        return nil
    }

    static func sha256sum(_ path: String) throws -> String {
        let result = try ProcessRunner.run("/usr/bin/sha256sum", [path])
        return String(result.stdout.prefix(64))
    }

    static func size(_ path: String) -> Int64 {
        guard let info = try? SystemCall.lstatIfPresent(path) else { return -1 }
        return Int64(info.st_size)
    }

    static func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    /// `count` random bytes from /dev/urandom, written by `head` (the test never holds them).
    static func randomFile(_ path: String, bytes count: Int) throws {
        _ = try ProcessRunner.run("/bin/sh", ["-c", "head -c \(count) /dev/urandom > '\(path)'"])
    }

    @Test func anArchiveCopiedAgreesWithSha256sumAndVerifies() throws {
        let work = try Workspace()
        _ = try CLI.run(["keygen", "--out", work.file("k")])
        let archive = work.file("june.mfa")
        let export = try CLI.run([
            "export", "--source", "dir:" + (try work.sampleStore()), "--sign-key", work.file("k.key.pem"), "--out",
            archive,
        ])
        #expect(export.status == 0, "\(export.stderr)")
        try FileManager.default.createDirectory(atPath: work.file("medium"), withIntermediateDirectories: false)

        let copy = try CLI.run(["copy", archive, "--to", work.file("medium")])
        #expect(copy.status == 0, "\(copy.stderr)")
        let copied = work.file("medium/june.mfa")
        let printed = try #require(Self.printedHash(copy.stdout, for: copied), "\(copy.stdout)")
        #expect(printed == (try Self.sha256sum(copied)))
        #expect(printed == (try Self.sha256sum(archive)))
        #expect(copy.stdout.contains("\(copied): \(Self.size(archive)) bytes ("))
        #expect(copy.stdout.hasSuffix(", verified\n"))
        #expect(copy.stderr.contains("copy+verify: 1 items"), "the progress line on standard error")
        #expect(!Self.exists(copied + ".partial"))
        let verify = try CLI.run(["verify", copied, "--trust", work.file("k.pub.pem")])
        #expect(verify.status == 0, "\(verify.stderr)")

        let again = try CLI.run(["copy", archive, "--to", work.file("medium")])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stdout.contains("SHA-256 \(printed), already there, verified"))
    }

    @Test func aCopyKilledMidwayResumesFromItsVerifiedPrefixAndEndsByteForByte() throws {
        let work = try Workspace()
        let source = work.file("big.mfa")
        try Self.randomFile(source, bytes: 300 << 20)
        try FileManager.default.createDirectory(atPath: work.file("medium"), withIntermediateDirectories: false)
        let copied = work.file("medium/big.mfa")

        // The copy stops after 100 MiB and waits (a test-only switch), so the kill does not race a fast disk.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.binary)
        process.arguments = ["copy", source, "--to", work.file("medium")]
        process.environment = ProcessInfo.processInfo.environment.merging([
            "MAILFERRY_TEST_PAUSE_COPY_AT_BYTES": "\(100 << 20)"
        ]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(600)
        while process.isRunning && Self.size(copied + ".partial") < 100 << 20 && Date() < deadline { usleep(10_000) }
        #expect(process.isRunning, "the copy ended before it could be killed")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)
        #expect(!Self.exists(copied), "nothing stands under the final name after a kill")
        let left = Self.size(copied + ".partial")
        #expect(left >= 100 << 20 && left < 300 << 20)

        let resumed = try CLI.run(["copy", source, "--to", work.file("medium")])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stdout.contains("\(copied): resumed from byte \(left) "), "\(resumed.stdout)")
        #expect(try ProcessRunner.run("/usr/bin/cmp", [source, copied]).status == 0)
        #expect(Self.printedHash(resumed.stdout, for: copied) == (try Self.sha256sum(source)))
        #expect(!Self.exists(copied + ".partial"))
    }

    @Test func aDamagedPartialCopyMakesTheNextCopyStartOver() throws {
        let work = try Workspace()
        let source = work.file("a.mfa")
        try Self.randomFile(source, bytes: 5 << 20)
        try FileManager.default.createDirectory(atPath: work.file("medium"), withIntermediateDirectories: false)
        let copied = work.file("medium/a.mfa")
        var prefix = try Data(contentsOf: URL(fileURLWithPath: source)).prefix(2 << 20)
        prefix[prefix.startIndex + 4096] ^= 0x20
        try prefix.write(to: URL(fileURLWithPath: copied + ".partial"))

        let copy = try CLI.run(["copy", source, "--to", work.file("medium")])
        #expect(copy.status == 0, "\(copy.stderr)")
        #expect(copy.stdout.contains("\(copied): starting over: the partial copy's 2097152 bytes"), "\(copy.stdout)")
        #expect(!copy.stdout.contains("resumed"))
        #expect(try ProcessRunner.run("/usr/bin/cmp", [source, copied]).status == 0)
    }

    @Test func aDifferentFileOfTheSameSizeUnderTheNameFailsWithExitStatus1() throws {
        let work = try Workspace()
        let source = work.file("a.mfa")
        try Self.randomFile(source, bytes: 70_000)
        try FileManager.default.createDirectory(atPath: work.file("medium"), withIntermediateDirectories: false)
        let copied = work.file("medium/a.mfa")
        try Self.randomFile(copied, bytes: 70_000)
        let other = try Self.sha256sum(copied)

        let copy = try CLI.run(["copy", source, "--to", work.file("medium")])
        #expect(copy.status == 1)
        #expect(copy.stderr.contains("SHA-256 \(other), the source's \(try Self.sha256sum(source))"), "\(copy.stderr)")
        #expect(!Self.exists(copied))
        #expect(try Self.sha256sum(copied + ".bad") == other)
    }

    @Test func aMissingDestinationIsNamed() throws {
        let work = try Workspace()
        try Self.randomFile(work.file("a.mfa"), bytes: 10)
        let copy = try CLI.run(["copy", work.file("a.mfa"), "--to", work.file("nowhere")])
        #expect(copy.status == 2)
        #expect(copy.stderr.contains("\(work.file("nowhere")) does not exist (is the medium mounted?)"))
    }

    // MARK: - Media that can be mounted here

    /// Whether this process may mount file systems (root in a container that allows it).
    static let canMount: Bool = {
        guard getuid() == 0, let work = try? TemporaryDirectory(prefix: "mailferry-mount-probe") else { return false }
        guard
            (try? ProcessRunner.run("/usr/bin/mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", work.path]))?.status
                == 0
        else {
            return false
        }
        _ = try? ProcessRunner.run("/usr/bin/umount", [work.path])
        return true
    }()

    /// Whether a FAT32 image can be made (`mkfs.vfat`, Debian dosfstools) and loop-mounted here: it needs loop
    /// devices and the kernel's vfat driver, which containers often lack.
    static let canMountFAT32: Bool = {
        guard canMount, FileManager.default.isExecutableFile(atPath: "/usr/sbin/mkfs.vfat"),
            let work = try? TemporaryDirectory(prefix: "mailferry-fat-probe")
        else { return false }
        return (try? Self.mountFAT32(in: work, then: { _ in })) != nil
    }()

    /// Makes a FAT32 image of `size` (64 MiB unless said) in `work`, loop-mounts it, runs `body` with the mount point,
    /// and unmounts.
    static func mountFAT32(in work: TemporaryDirectory, size: String = "64M", then body: (String) throws -> Void) throws {
        let image = work.file("fat32.img")
        let mountPoint = work.file("stick")
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: false)
        _ = try ProcessRunner.run("/usr/bin/truncate", ["-s", size, image])
        guard try ProcessRunner.run("/usr/sbin/mkfs.vfat", ["-F", "32", image]).status == 0,
            try ProcessRunner.run("/usr/bin/mount", ["-o", "loop", image, mountPoint]).status == 0
        else { throw CocoaError(.fileWriteUnknown) }
        defer { _ = try? ProcessRunner.run("/usr/bin/umount", [mountPoint]) }
        try body(mountPoint)
    }

    @Test(.enabled(if: canMount, "needs permission to mount a tmpfs"))
    func aMediumWithoutRoomForAllFilesIsRefusedBeforeAByteIsWritten() throws {
        let work = try Workspace()
        let medium = work.file("medium")
        try FileManager.default.createDirectory(atPath: medium, withIntermediateDirectories: false)
        #expect(try ProcessRunner.run("/usr/bin/mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", medium]).status == 0)
        defer { _ = try? ProcessRunner.run("/usr/bin/umount", [medium]) }
        try Self.randomFile(work.file("a.mfa"), bytes: 3 << 20)
        try Self.randomFile(work.file("b.mfa"), bytes: 3 << 20)

        let refused = try CLI.run(["copy", work.file("a.mfa"), work.file("b.mfa"), "--to", medium])
        #expect(refused.status == 2)
        #expect(
            refused.stderr.contains(
                "not enough space on \(medium): the 2 files need 6.3 MB (6291456 bytes), and 4.2 MB (4194304 bytes) is free"
            ), "\(refused.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: medium).isEmpty)

        let one = try CLI.run(["copy", work.file("a.mfa"), "--to", medium])
        #expect(one.status == 0, "\(one.stderr)")
        #expect(try ProcessRunner.run("/usr/bin/cmp", [work.file("a.mfa"), medium + "/a.mfa"]).status == 0)
    }

    @Test(.enabled(if: canMountFAT32, "needs loop devices, mkfs.vfat and the kernel's vfat driver"))
    func aFileOver4GiBIsRefusedOnFAT32WithTheVolumeSizeAdvice() throws {
        let work = try Workspace()
        let large = work.file("large.mfa")
        // Sparse: copy sees bytes, and the refusal comes before any is read.
        _ = try ProcessRunner.run("/usr/bin/truncate", ["-s", "\((4 << 30) + 1)", large])
        try Self.randomFile(work.file("small.mfa"), bytes: 1 << 20)
        try Self.mountFAT32(in: work.directory) { stick in
            let refused = try CLI.run(["copy", large, "--to", stick])
            #expect(refused.status == 2)
            #expect(refused.stderr.contains("large.mfa is 4.3 GB (4294967297 bytes)"), "\(refused.stderr)")
            #expect(refused.stderr.contains("up to 4 GiB - 1 byte (4294967295 bytes)"))
            #expect(refused.stderr.contains("export --volume-size fat32"))
            #expect(try FileManager.default.contentsOfDirectory(atPath: stick).isEmpty)
            let small = try CLI.run(["copy", work.file("small.mfa"), "--to", stick])
            #expect(small.status == 0, "\(small.stderr)")
        }
    }
    /// A small medium, made here: a loop-mounted FAT32 image when this machine can (loop devices, mkfs.vfat, the vfat
    /// driver), else a tmpfs with a size limit. Says on standard output which it is; `body` gets the mount point and the
    /// medium's name. Always unmounted.
    static func withSmallMedium(in work: Workspace, _ body: (String, String) throws -> Void) throws {
        if canMountFAT32 {
            print("CopyCommandTests: the medium is a 40 MiB FAT32 image, loop-mounted (mkfs.vfat -F 32)")
            let folder = try TemporaryDirectory(prefix: "mailferry-fat")
            try mountFAT32(in: folder, size: "40M") { try body($0, "FAT32") }
            return
        }
        let loop = (try? ProcessRunner.run("/usr/sbin/losetup", ["-f"]))?.stdout.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        print(
            "CopyCommandTests: FAT32 cannot be loop-mounted here (free loop device: \(loop.isEmpty ? "none" : loop); "
                + "mkfs.vfat: \(FileManager.default.isExecutableFile(atPath: "/usr/sbin/mkfs.vfat") ? "present" : "missing"); "
                + "the kernel's vfat driver: \(vfatDriver ? "present" : "missing")): the medium is a tmpfs of 6 MiB instead")
        let medium = work.file("medium")
        try FileManager.default.createDirectory(atPath: medium, withIntermediateDirectories: false)
        guard try ProcessRunner.run("/usr/bin/mount", ["-t", "tmpfs", "-o", "size=6m", "tmpfs", medium]).status == 0 else {
            throw CocoaError(.fileWriteUnknown)
        }
        defer { _ = try? ProcessRunner.run("/usr/bin/umount", [medium]) }
        try body(medium, "tmpfs")
    }

    /// Whether the kernel lists a vfat file system (/proc/filesystems), for saying why FAT32 could not be used.
    static var vfatDriver: Bool {
        ((try? String(contentsOfFile: "/proc/filesystems", encoding: .utf8)) ?? "").contains("vfat")
    }

    /// An export larger than the medium: one archive is refused before a byte is written, with the volume size that
    /// fits the medium; exported again as a volume set of that size, its volumes go onto the medium one medium-load at
    /// a time (each copy read back and compared), and the set carried so verifies whole at the other end.
    @Test(.enabled(if: canMount, "needs root to mount a loop image or a tmpfs"))
    func anExportLargerThanTheMediumTravelsAsAVolumeSetOfTheAdvisedSize() throws {
        let work = try Workspace()
        #expect(try CLI.run(["keygen", "--out", work.file("a")]).status == 0)
        try Self.withSmallMedium(in: work) { medium, kind in
            let free = try #require(try FileManager.default.attributesOfFileSystem(forPath: medium)[.systemFreeSize] as? Int64)
            // Incompressible mail of about 1.5 times the free space, so no single archive of it fits.
            let cur = work.file("store/alice@example.com/Maildir/cur")
            try FileManager.default.createDirectory(atPath: cur, withIntermediateDirectories: true)
            let urandom = try #require(FileHandle(forReadingAtPath: "/dev/urandom"))
            let messages = Int(free * 3 / 2 / (256 << 10)) + 1
            for i in 0..<messages {
                let body = try #require(try urandom.read(upToCount: 256 << 10)).base64EncodedData(options: .lineLength76Characters)
                try (Data("Subject: part \(i)\n\n".utf8) + body).write(to: URL(fileURLWithPath: cur + "/\(1_700_000_000 + i).M\(i)P1.host:2,S"))
            }
            try urandom.close()
            let export = try CLI.run(["export", "--source", "dir:" + work.file("store"), "--sign-key", work.file("a.key.pem"), "--out", work.file("whole.mfa")])
            #expect(export.status == 0, "\(export.stderr)")
            #expect(Self.size(work.file("whole.mfa")) > free)

            let refused = try CLI.run(["copy", work.file("whole.mfa"), "--to", medium])
            #expect(refused.status == 2, "\(kind): \(refused.stderr)")
            #expect(refused.stderr.contains("not enough space on \(medium)"), "\(refused.stderr)")
            let advised = try #require(refused.stderr.firstMatch(of: /export --volume-size (\d+)([MK])`/), "\(refused.stderr)")
            let volumeSize = Int64(advised.1)! << (advised.2 == "M" ? 20 : 10)
            #expect(volumeSize <= free && volumeSize > free - (1 << 20), "advised \(volumeSize) bytes for \(free) free")
            #expect(try FileManager.default.contentsOfDirectory(atPath: medium).isEmpty)

            try FileManager.default.createDirectory(atPath: work.file("out"), withIntermediateDirectories: true)
            let set = try CLI.run([
                "export", "--source", "dir:" + work.file("store"), "--sign-key", work.file("a.key.pem"), "--out", work.file("out/june.mfa"),
                "--volume-size", "\(advised.1)\(advised.2)",
            ])
            #expect(set.status == 0, "\(set.stderr)")
            let volumes = try FileManager.default.contentsOfDirectory(atPath: work.file("out")).filter { $0.hasSuffix(".mfa") }.sorted()
            #expect(volumes.count >= 2, "\(volumes)")
            // Each medium-load: one volume (the set statement with the last), copied, read back, then carried off.
            let arrived = work.file("station-b")
            try FileManager.default.createDirectory(atPath: arrived, withIntermediateDirectories: true)
            for (n, name) in volumes.enumerated() {
                let files = [work.file("out/" + name)] + (n == volumes.count - 1 ? [work.file("out/june.set")] : [])
                let copy = try CLI.run(["copy"] + files + ["--to", medium])
                #expect(copy.status == 0, "\(kind), \(name): \(copy.stderr)")
                #expect(copy.stdout.contains("\(medium)/\(name): "), "\(copy.stdout)")
                #expect(copy.stdout.contains("verified"))
                for file in try FileManager.default.contentsOfDirectory(atPath: medium) {
                    try FileManager.default.copyItem(atPath: medium + "/" + file, toPath: arrived + "/" + file)
                    try FileManager.default.removeItem(atPath: medium + "/" + file)
                }
            }
            let verify = try CLI.run(["verify", arrived, "--trust", work.file("a.pub.pem")])
            #expect(verify.status == 0, "\(verify.stderr)")
            #expect(verify.stdout.contains("all \(volumes.count) volumes present and verified"), "\(verify.stdout)")
        }
    }
}
