import Foundation

/// The `mailferry` binary the build made, found next to the test bundle (or in .build/debug).
public enum BuiltBinary {
    public static let path: String = {
        let here = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).deletingLastPathComponent()
        var root = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { root.deleteLastPathComponent() }
        let candidates = [
            here.appendingPathComponent("mailferry").path,
            here.deletingLastPathComponent().appendingPathComponent("mailferry").path,
            root.path + "/.build/debug/mailferry",
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates.last!
    }()
}
