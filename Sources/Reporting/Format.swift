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

    /// `text` for a terminal: control characters (C0 but, with `keepingLayout`, line feed and tab; DEL; C1) and
    /// the invisible bidi and direction marks are shown as `\u{1B}`, so that a folder name or subject from an
    /// archive or a server cannot set the window title, clear the screen or reorder what is shown around it.
    public static func terminalSafe(_ text: String, keepingLayout: Bool = false) -> String {
        guard text.unicodeScalars.contains(where: { actsOnTerminal($0, keepingLayout: keepingLayout) }) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if actsOnTerminal(scalar, keepingLayout: keepingLayout) {
                out.append(contentsOf: "\\u{\(String(scalar.value, radix: 16, uppercase: true))}".unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// JSON text for a terminal: the same characters written as JSON escapes (`\u202e`), which keeps every value
    /// as it was (JSONEncoder escapes C0 itself, not DEL, C1 or the bidi marks; they occur only inside strings).
    public static func terminalSafeJSON(_ json: String) -> String {
        guard json.unicodeScalars.contains(where: { actsOnTerminal($0, keepingLayout: true) }) else { return json }
        var out = String.UnicodeScalarView()
        for scalar in json.unicodeScalars {
            if actsOnTerminal(scalar, keepingLayout: true) {
                let hex = String(scalar.value, radix: 16)
                out.append(contentsOf: ("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    static func actsOnTerminal(_ scalar: Unicode.Scalar, keepingLayout: Bool) -> Bool {
        let v = scalar.value
        if v == 0x0A || v == 0x09 { return !keepingLayout }
        if v < 0x20 || (0x7F...0x9F).contains(v) { return true }
        // Arabic letter mark, left-to-right and right-to-left marks, embeddings and overrides, isolates.
        return v == 0x061C || v == 0x200E || v == 0x200F || (0x202A...0x202E).contains(v) || (0x2066...0x2069).contains(v)
    }
}
