// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "MailFerry",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "mailferry", targets: ["mailferry"]),
        .library(name: "FerryKit", targets: ["FerryKit"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        // C libraries from Debian, reached only through these shims.
        .systemLibrary(name: "CArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),

        // System calls Swift's Glibc module does not export (syncfs).
        .target(name: "CSystemShims"),
        // Below everything else: system calls (EINTR retry, short writes), the system error, the owned file
        // descriptor, an unlinked temporary file, atomic replace, the file lock, the durable JSON Lines file, and
        // SHA-256/hex. Every module may import it; it imports only the C shims (and Foundation, for JSON).
        .target(name: "SystemLayer", dependencies: ["CSystemShims", "COpenSSL"]),

        // The data model and pure codecs: no I/O beyond what a codec needs (the mbox reader's file, through the
        // system layer). Also the exit statuses, `ExitStatusError` and `FerryError`, which every layer above throws.
        .target(name: "MailModel", dependencies: ["SystemLayer"]),
        // The interchange archive: writer, reader, manifest, signatures, verification.
        .target(name: "FerryArchive", dependencies: ["SystemLayer", "MailModel", "CArchive", "CZstd", "COpenSSL"]),
        // One folder per source/target system, and the registry that names them on the command line
        // (`ConnectorURL`, with the `ConnectorOptions` a server needs).
        .target(name: "Connectors", dependencies: ["SystemLayer", "MailModel", "CSystemShims", "IMAPClient", "IMAPCore"]),
        // SMTP and LMTP as bytes: command and reply grammar, DATA framing, the session state machine.
        // No sockets here; the buffer's network layer drives it.
        .target(name: "SMTPCore"),
        // IMAP as bytes (RFC 9051, RFC 3501): response framing with byte limits, the response parser, command
        // encoders, the client's state machine. No sockets here.
        .target(name: "IMAPCore", dependencies: ["MailModel"]),
        // A thin SwiftNIO layer that drives IMAPCore over TCP, TLS or STARTTLS, with a blocking facade for the
        // connectors, which run on their own threads.
        .target(
            name: "IMAPClient",
            dependencies: [
                "IMAPCore", "MailModel",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // The buffer's durable spool: messages held for migrating users until release.
        .target(name: "BufferSpool", dependencies: ["SystemLayer", "MailModel", .product(name: "GRDB", package: "GRDB.swift")]),
        // The shared spool on PostgreSQL: the same `SpoolStore` as BufferSpool, for several buffer hosts.
        .target(
            name: "PostgresSpool",
            dependencies: [
                "SystemLayer", "MailModel", "BufferSpool",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // What an operator watches of the service: swift-log handlers (plain and JSON lines) and the Prometheus
        // /metrics endpoint on NIOHTTP1. Knows nothing of SMTP or the spool.
        .target(
            name: "Telemetry",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // The buffer service: SMTP/LMTP listeners on SwiftNIO, configuration, release to targets.
        .target(
            name: "Buffer",
            dependencies: [
                "SystemLayer", "SMTPCore", "BufferSpool", "PostgresSpool", "Receipts", "FerryArchive", "Connectors", "MailModel", "Telemetry",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ]
        ),
        // What people and scripts read of an operation: the reconcile report and import counts (JSON), the HTML
        // report page, progress lines, numbers as people read them, the program's name and version.
        .target(name: "Reporting", dependencies: ["SystemLayer", "MailModel", "FerryArchive"]),
        // Station B's signed receipts: one per user of a reconcile report, written and checked (format-spec/receipt.md).
        .target(name: "Receipts", dependencies: ["SystemLayer", "MailModel", "FerryArchive", "Reporting"]),
        // The operations the commands run: export, import, reconcile, inspect, verify, keygen, delta.
        .target(name: "FerryKit", dependencies: ["SystemLayer", "MailModel", "FerryArchive", "Connectors", "Reporting"]),
        // The two-station migration plan: every user's state through the procedure, in a journal that survives
        // crashes, and the steps station A runs (hold, export, carry, release, close, undo).
        // Kept in PostgreSQL (plan init --store), several station-A machines work on one plan: the connection code
        // is the shared spool's (PostgresSpool).
        .target(
            name: "MigrationPlan",
            dependencies: [
                "SystemLayer", "FerryKit", "FerryArchive", "Connectors", "Reporting", "Receipts", "Buffer", "BufferSpool", "PostgresSpool",
                "MailModel", .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "NIOCore", package: "swift-nio"),
            ]),
        // Argument parsing and printing only.
        .executableTarget(
            name: "mailferry",
            dependencies: ["SystemLayer", "MailModel", "Connectors", "Reporting", "Receipts", "FerryKit", "Buffer", "MigrationPlan", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),

        // libFuzzer targets for every parser that reads outside data (Fuzz/README.md). Built normally they replay
        // stored inputs (FuzzReplayTests runs every corpus and crash file); with -D FUZZING and -sanitize=fuzzer
        // (Fuzz/run.sh) they are the fuzzers. The configuration parsers are apart: their dependencies (NIO, GRDB,
        // TOMLKit) take long to build with the fuzzer.
        .target(name: "FuzzSupport", path: "Fuzz/Sources/FuzzSupport"),
        .executableTarget(
            name: "mailferry-fuzz",
            dependencies: ["FuzzSupport", "FerryArchive", "MailModel", "SystemLayer", "IMAPCore", "SMTPCore", "CZstd"],
            path: "Fuzz/Sources/mailferry-fuzz"
        ),
        .executableTarget(
            name: "mailferry-fuzz-config", dependencies: ["FuzzSupport", "Buffer", "FerryKit"],
            path: "Fuzz/Sources/mailferry-fuzz-config"
        ),

        // Helpers several test targets share: a seeded generator, the built binary's location, a real Dovecot, an
        // mbox writer for test data.
        .target(name: "TestSupport", dependencies: ["MailModel"], path: "Tests/TestSupport"),
        .testTarget(name: "SystemLayerTests", dependencies: ["SystemLayer"]),
        .testTarget(name: "MailModelTests", dependencies: ["TestSupport", "MailModel"]),
        .testTarget(name: "FerryArchiveTests", dependencies: ["TestSupport", "SystemLayer", "FerryArchive", "MailModel"]),
        .testTarget(name: "ConnectorsTests", dependencies: ["TestSupport", "SystemLayer", "Connectors", "MailModel"]),
        .testTarget(name: "ReportingTests", dependencies: ["Reporting"]),
        .testTarget(name: "FerryKitTests", dependencies: ["TestSupport", "SystemLayer", "FerryKit", "FerryArchive", "Connectors", "Reporting", "Receipts", "MailModel"]),
        .testTarget(name: "SMTPCoreTests", dependencies: ["TestSupport", "SMTPCore"]),
        .testTarget(name: "IMAPCoreTests", dependencies: ["TestSupport", "IMAPCore"], exclude: ["Transcripts"]),
        .testTarget(name: "IMAPClientTests", dependencies: ["TestSupport", "IMAPClient", "IMAPCore", "MailModel"]),
        .testTarget(name: "BufferSpoolTests", dependencies: ["SystemLayer", "BufferSpool", "MailModel"]),
        .testTarget(name: "BufferTests", dependencies: ["TestSupport", "SystemLayer", "Buffer", "Telemetry", "BufferSpool", "PostgresSpool", "SMTPCore", "FerryArchive", "Connectors", "Reporting", "Receipts", "MailModel"]),
        .testTarget(name: "MigrationPlanTests", dependencies: ["TestSupport", "MigrationPlan", "FerryKit"]),
        .testTarget(name: "FuzzReplayTests", dependencies: ["TestSupport", "mailferry-fuzz", "mailferry-fuzz-config"]),
        .testTarget(
            name: "MailFerryCLITests", dependencies: ["TestSupport", "SystemLayer", "FerryKit", "FerryArchive", "Connectors", "Reporting", "mailferry"],
            exclude: ["imap_fixture.py", "png_check.py", "hostile_imap.py", "folder_properties.py"]),
    ],
    swiftLanguageModes: [.v6]
)
