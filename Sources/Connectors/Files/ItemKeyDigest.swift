import MailModel

/// A short, stable name for an item key, so that a target can find an item it committed in an earlier run
/// from the key alone. Two 64-bit FNV-1a hashes with different starting values give 128 bits: for a few
/// hundred thousand items per folder an accidental match is far below one in 10^20. It is not a defence
/// against crafted keys; the archive's signature is.
enum ItemKeyDigest {
    static let prime: UInt64 = 0x0000_0100_0000_01b3
    static let firstBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    /// Any other odd value works; this is the first basis with its halves swapped.
    static let secondBasis: UInt64 = 0x8422_2325_cbf2_9ce4

    /// 32 lowercase hex digits for `archiveID` and `entryPath` (separated by a NUL, which neither holds).
    static func hex(of key: ItemKey) -> String {
        var first = firstBasis
        var second = secondBasis
        for byte in key.archiveID.utf8 + [0] + key.entryPath.utf8 {
            first = (first ^ UInt64(byte)) &* prime
            second = (second ^ UInt64(byte)) &* prime
            second = second ^ (second >> 29)
        }
        return padded(first) + padded(second)
    }

    static func padded(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
