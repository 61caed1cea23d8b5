import MailModel
import SystemLayer
import Testing

@testable import FerryKit

/// The reconcile's compact view of a target: items found by hash (copies with the same bytes, and different
/// hashes that share their first word, kept apart), taken out once each; subjects and senders cut at a character.
@Suite struct HeldItemsTests {
    static func digest(_ a: UInt64, _ d: UInt64 = 0) -> SHA256Digest { SHA256Digest(a: a, b: 0, c: 0, d: d) }

    static func item(_ digest: SHA256Digest, uid: UInt32) -> HeldItem {
        var item = HeldItem(digest: digest, size: 10)
        item.uid = uid
        return item
    }

    @Test func itemsAreFoundByTheirWholeDigestAndTakenOnce() {
        var held = HeldItems()
        // Three items share the first word; two of them are copies of one message.
        held.append(Self.item(Self.digest(1, 1), uid: 1))
        held.append(Self.item(Self.digest(1, 2), uid: 2))
        held.append(Self.item(Self.digest(1, 1), uid: 3))
        held.append(Self.item(Self.digest(9), uid: 4))
        #expect(held.count == 4)
        #expect(held.contains(Self.digest(1, 2)))
        #expect(!held.contains(Self.digest(1, 3)))
        #expect(held.take(Self.digest(1, 3), preferring: { _ in true }) == nil)

        // The copy the caller prefers is taken, whatever its place in the chain.
        #expect(held.take(Self.digest(1, 1), preferring: { $0.uid == 1 })?.uid == 1)
        #expect(held.take(Self.digest(1, 1), preferring: { _ in false })?.uid == 3)
        #expect(held.take(Self.digest(1, 1), preferring: { _ in true }) == nil)
        #expect(held.remainingCount == 2)
        #expect(held.remainingIndices.map { held[$0].uid } == [2, 4])

        held.take(at: held.remainingIndices[0])
        #expect(!held.contains(Self.digest(1, 2)))
        #expect(held.contains(Self.digest(9)))
        #expect(held.remainingIndices.map { held[$0].uid } == [4])
    }

    @Test func manyItemsSpanSeveralChunksInTheOrderRead() {
        var held = HeldItems()
        for i in 0..<20_000 { held.append(Self.item(Self.digest(UInt64(i % 5_000), UInt64(i)), uid: UInt32(i))) }
        #expect(held.count == 20_000)
        for i in stride(from: 0, to: 20_000, by: 2) {
            #expect(held.take(Self.digest(UInt64(i % 5_000), UInt64(i)), preferring: { _ in false })?.uid == UInt32(i))
        }
        let left = held.remainingIndices.map { held[$0].uid! }
        #expect(left == Array(stride(from: UInt32(1), to: 20_000, by: 2)))
    }

    @Test func subjectsAndSendersAreKeptAndCutAtACharacter() {
        var texts = HeaderTexts()
        #expect(texts.append(subject: nil, from: nil) == UInt32.max)
        let short = texts.append(subject: "Grüße", from: nil)
        let long = String(repeating: "é", count: 150)  // 300 bytes
        let cut = texts.append(subject: long, from: "Ann <ann@example.com>")
        #expect(texts[short].subject == "Grüße")
        #expect(texts[short].from == nil)
        let subject = texts[cut].subject!
        #expect(subject.hasSuffix("…"))
        #expect(subject.utf8.count <= HeaderTexts.limit)
        #expect(subject.dropLast().allSatisfy { $0 == "é" })
        #expect(texts[cut].from == "Ann <ann@example.com>")
    }

    @Test func aDigestReadsAndWritesItsHexForm() {
        let hex = SHA256.hex(Array("abc".utf8))
        let digest = SHA256Digest(hex: hex)
        #expect(digest?.hex == hex)
        let hasher = SHA256()
        hasher.update(Array("abc".utf8))
        #expect(hasher.finalizeDigest() == digest)
        #expect(SHA256Digest(hex: hex.uppercased()) == nil)
        #expect(SHA256Digest(hex: String(hex.dropLast())) == nil)
        #expect(SHA256Digest(hex: hex + "0") == nil)
    }
}
