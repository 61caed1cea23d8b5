/// Windows-1252: ISO-8859-1 except 0x80...0x9F, which hold typographic marks instead of C1 controls.
/// Written out so decoding does not depend on what Foundation supports on the platform.
enum Windows1252 {
    /// 0x80...0x9F; nil marks the five positions the code page leaves undefined.
    static let high: [Unicode.Scalar?] = [
        "\u{20AC}", nil, "\u{201A}", "\u{0192}", "\u{201E}", "\u{2026}", "\u{2020}", "\u{2021}",
        "\u{02C6}", "\u{2030}", "\u{0160}", "\u{2039}", "\u{0152}", nil, "\u{017D}", nil,
        nil, "\u{2018}", "\u{2019}", "\u{201C}", "\u{201D}", "\u{2022}", "\u{2013}", "\u{2014}",
        "\u{02DC}", "\u{2122}", "\u{0161}", "\u{203A}", "\u{0153}", nil, "\u{017E}", "\u{0178}",
    ]

    static func scalar(_ byte: UInt8) -> Unicode.Scalar? {
        (0x80...0x9F).contains(byte) ? high[Int(byte - 0x80)] : Unicode.Scalar(byte)
    }
}
