import Foundation

/// One fuzz target: a parser fed untrusted bytes. It must return for every input (errors are fine); a trap, a
/// hang or unbounded memory is the bug.
public struct FuzzTarget: Sendable {
    public let name: String
    public let summary: String
    public let run: @Sendable (UnsafeRawBufferPointer) -> Void

    public init(name: String, summary: String, run: @escaping @Sendable (UnsafeRawBufferPointer) -> Void) {
        self.name = name
        self.summary = summary
        self.run = run
    }
}

/// What both fuzz executables do with their targets: replay stored inputs (built normally) or hand libFuzzer's
/// inputs to the target named by MAILFERRY_FUZZ_TARGET (built with -D FUZZING).
public enum FuzzDispatch {
    static func usage(_ targets: [FuzzTarget]) -> String {
        "targets:\n" + targets.map { "  \($0.name.padding(toLength: 13, withPad: " ", startingAt: 0)) \($0.summary)" }.joined(separator: "\n")
    }

    /// `TARGET PATH...` replays files (or every file in folders) through a target; `list` names the targets.
    public static func replayMain(_ targets: [FuzzTarget], arguments: [String]) -> Int32 {
        if arguments.first == "list" {
            print(targets.map(\.name).joined(separator: "\n"))
            return 0
        }
        guard let name = arguments.first, let target = targets.first(where: { $0.name == name }) else {
            FileHandle.standardError.write(Data("usage: TARGET FILE_OR_FOLDER...  |  list\n\(usage(targets))\n".utf8))
            return 2
        }
        var files: [String] = []
        for path in arguments.dropFirst() {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
            if isDirectory.boolValue {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
                files += names.filter { !$0.hasPrefix(".") }.sorted().map { "\(path)/\($0)" }
            } else {
                files.append(path)
            }
        }
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else { continue }
            // Named before it runs, so that a trap's output says which input it was.
            FileHandle.standardError.write(Data("\(target.name): \(file)\n".utf8))
            data.withUnsafeBytes { target.run($0) }
        }
        print("\(name): \(files.count) inputs replayed")
        return 0
    }

    nonisolated(unsafe) private static var chosen: FuzzTarget?

    /// One libFuzzer input through the target MAILFERRY_FUZZ_TARGET names (looked up once).
    public static func fuzzOne(_ targets: [FuzzTarget], _ data: UnsafePointer<UInt8>?, _ size: Int) {
        if chosen == nil {
            let name = ProcessInfo.processInfo.environment["MAILFERRY_FUZZ_TARGET"] ?? ""
            guard let target = targets.first(where: { $0.name == name }) else {
                FileHandle.standardError.write(Data("set MAILFERRY_FUZZ_TARGET to one of the \(usage(targets))\n".utf8))
                exit(2)
            }
            chosen = target
        }
        chosen!.run(UnsafeRawBufferPointer(start: data, count: size))
    }
}

#if FUZZING
@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt
#endif

extension FuzzDispatch {
    nonisolated(unsafe) private static var registered: [FuzzTarget] = []

    /// The executables' entry point. Built with the fuzzer it runs libFuzzer's driver on `targets`; SwiftPM points
    /// `main` here while libFuzzer brings its own `main` (run.sh links with -z muldefs), and whichever wins runs the
    /// same driver, since each executable also exports `LLVMFuzzerTestOneInput`. Built normally it replays inputs:
    /// `PRODUCT TARGET FILE_OR_FOLDER...`, or `PRODUCT list`.
    public static func main(_ targets: [FuzzTarget]) -> Never {
        #if FUZZING
        registered = targets
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
            FuzzDispatch.fuzzOne(FuzzDispatch.registered, data, size)
            return 0
        })
        #else
        exit(replayMain(targets, arguments: Array(CommandLine.arguments.dropFirst())))
        #endif
    }
}
