import Foundation
import FuzzSupport

/// The configuration files' parsers, apart from mailferry-fuzz because they need the buffer's and FerryKit's
/// dependencies (SwiftNIO, NIOSSL, GRDB, TOMLKit), which take long to build with the fuzzer.
enum FuzzTargets {
    static let all: [FuzzTarget] = [
        FuzzTarget(name: "toml", summary: "the buffer's TOML configuration", run: ConfigurationFuzz.toml),
        FuzzTarget(name: "users-csv", summary: "the migration users CSV", run: ConfigurationFuzz.usersCSV),
    ]
}

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func mailferryFuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzDispatch.fuzzOne(FuzzTargets.all, data, size)
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

// SwiftPM points `main` at this module's entry point while libFuzzer brings its own `main`; the link allows both
// (run.sh passes -z muldefs), and whichever wins runs the same driver.
@main
struct FuzzDriver {
    static func main() {
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, mailferryFuzzOneInput))
    }
}
#else
/// Without the fuzzer: `mailferry-fuzz-config TARGET FILE_OR_FOLDER...` replays inputs; `mailferry-fuzz-config list`.
@main
struct FuzzReplayCommand {
    static func main() {
        exit(FuzzDispatch.replayMain(FuzzTargets.all, arguments: Array(CommandLine.arguments.dropFirst())))
    }
}
#endif
