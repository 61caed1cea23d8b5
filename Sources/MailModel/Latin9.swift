/// ISO-8859-15: ISO-8859-1 with eight positions replaced (the euro sign and letters for French,
/// Finnish and Estonian). Written out because Foundation on Linux has no encoding for it.
enum Latin9 {
    static func scalar(_ byte: UInt8) -> Unicode.Scalar {
        switch byte {
        case 0xA4: "\u{20AC}"  // €
        case 0xA6: "\u{0160}"  // Š
        case 0xA8: "\u{0161}"  // š
        case 0xB4: "\u{017D}"  // Ž
        case 0xB8: "\u{017E}"  // ž
        case 0xBC: "\u{0152}"  // Œ
        case 0xBD: "\u{0153}"  // œ
        case 0xBE: "\u{0178}"  // Ÿ
        default: Unicode.Scalar(byte)
        }
    }
}
