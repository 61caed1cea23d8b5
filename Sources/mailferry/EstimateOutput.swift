import FerryKit
import Reporting

/// How `export --estimate` reads for people.
enum EstimateOutput {
    static func print(_ e: ExportEstimate) {
        Swift.print("estimate for \(e.source): \(e.users.count) user\(e.users.count == 1 ? "" : "s")")
        for u in e.users {
            Swift.print("  \(u.address): \(u.messages) messages (\(Format.bytes(u.messageBytes))) in \(u.folders.count) folders, \(u.otherItems) other items (\(Format.bytes(u.otherBytes)))")
            for f in u.folders where f.messages > 0 {
                Swift.print("    \(f.name): \(f.messages) messages, \(Format.bytes(f.bytes))")
            }
        }
        Swift.print("at the source: \(e.items) items, \(Format.bytes(e.bytes))")
        let s = e.sample
        let percent = Int((e.compressionRatio * 100).rounded())
        var measured = "sample: \(s.items) items (\(Format.bytes(s.bytes))) compress to \(percent)% of their size"
        if s.readSeconds > 0 { measured += "; read at \(Format.bytes(Int64(Double(s.bytes) / s.readSeconds)))/s" }
        if s.processSeconds > 0 { measured += "; hashed and compressed at \(Format.bytes(Int64(Double(s.bytes) / s.processSeconds)))/s" }
        Swift.print(measured)
        Swift.print("estimated archive: about \(Format.bytes(e.archiveBytes)); estimated time: about \(Format.duration(e.seconds))\(e.bytesPerSecond > 0 ? " (at \(Format.bytes(Int64(e.bytesPerSecond)))/s)" : "")")
        Swift.print("how: \(e.method)")
    }
}
