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
#endif

@main
enum FuzzMain {
    static func main() { FuzzDispatch.main(FuzzTargets.all) }
}
