import Foundation

/// Numbers as people read them in progress lines and reports: bytes in KB, MB and GB, durations.
public enum Format {
    public static func bytes(_ n: Int64) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = Double(n)
        var unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(n) B" : String(format: "%.1f %@", value, units[unit])
    }

    /// `45 s`, `3 min 05 s`, `2 h 07 min`.
    public static func duration(_ seconds: Double) -> String {
        // Stated totals from an archive can make an estimate absurd (or infinite): shown capped, never converted
        // out of Int's range.
        guard seconds.isFinite, seconds < 1e12 else { return seconds.isNaN ? "unknown" : "over 277777777 h" }
        let s = Int(max(0, seconds).rounded())
        if s < 60 { return "\(s) s" }
        if s < 3600 { return String(format: "%d min %02d s", s / 60, s % 60) }
        return String(format: "%d h %02d min", s / 3600, (s % 3600) / 60)
    }
}
