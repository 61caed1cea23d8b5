import Foundation
import MailModel

/// The data model's codecs: what a source store (mbox, Maildir, IMAP) or an archive's items hold.
enum MailModelFuzz {
    static func contentLines(_ input: UnsafeRawBufferPointer) {
        let bytes = [UInt8](input)
        let parsed = ContentLines.parse(bytes)
        for line in parsed.lines.prefix(64) { _ = ContentLines.unescapeText(line.value) }
        _ = VCardCodec.summarize(bytes)
        _ = ICalendarCodec.summarize(bytes)
        // The user mapping's rewriters, which read archived contacts, events and Sieve scripts: every address renamed.
        let everyone: (String) -> String? = { $0.isEmpty ? nil : "renamed@example.net" }
        _ = AddressRewriter.rewrite(bytes, as: .vCard, map: everyone)
        _ = AddressRewriter.rewrite(bytes, as: .iCalendar, map: everyone)
        _ = SieveAddressRewriter.rewrite(bytes, map: everyone)
    }

    static func mbox(_ input: UnsafeRawBufferPointer) {
        FuzzFiles.withFile(input) { path in
            guard let file = try? ReadOnlyFile(path: path) else { return }
            // A small chunk size puts chunk boundaries inside From lines and quoted lines.
            let chunk = input.first.map { Int($0 % 64) + 1 } ?? 64
            let reader = MboxReader(file: file, chunkSize: chunk)
            var locations: [MboxMessageLocation] = []
            _ = try? reader.scan { locations.append($0) }
            for location in locations.prefix(16) {
                guard location.contentLength >= 0, location.contentLength <= 1 << 20,
                      let content = try? file.read(at: location.contentOffset, count: Int(location.contentLength))
                else { continue }
                _ = MboxQuoting.apply(.unquote, to: content)
            }
        }
        _ = MboxFromLine(String(decoding: input.prefix(4096), as: UTF8.self))
        let bytes = [UInt8](input)
        _ = MboxQuoting.apply(.quote, to: bytes)
    }

    static func headers(_ input: UnsafeRawBufferPointer) {
        let bytes = [UInt8](input)
        _ = RFC5322.headerEnd(in: bytes)
        let summary = HeaderSummary(header: bytes)
        _ = summary.subject
        for field in RFC5322.headerFields(in: bytes).prefix(256) {
            _ = field.text
            _ = EncodedWord.decodeHeaderValue(field.rawValue)
            if let date = RFC5322.date(RFC5322.text(field.rawValue)) { _ = date.iso8601 }
        }
        let text = String(decoding: bytes, as: UTF8.self)
        _ = EncodedWord.decode(text)
        if let date = MboxFromLine.asctime(text) { _ = date.iso8601 }
        _ = CRLFForm.converting(bytes)
    }

    /// A Maildir folder's control files and names as a source holds them: `dovecot-uidlist` (with and without its
    /// lines kept, and a list extended as a target does), `dovecot-keywords`, and file names' info parts.
    static func maildir(_ input: UnsafeRawBufferPointer) {
        let bytes = [UInt8](input)
        if var list = DovecotUIDList.parse(bytes).list {
            _ = DovecotUIDList.headerLine(list.header)
            for record in list.records.values.prefix(64) {
                _ = DovecotUIDList.recordLine(uid: record.uid, baseName: record.baseName, guid: record.guid)
            }
            if let next = list.nextUID { list.add(.init(uid: next, baseName: "fuzz.added", storedGUID: "g")) }
        }
        _ = DovecotUIDList.parse(bytes, keepingRecords: false)
        let text = String(decoding: bytes, as: UTF8.self)
        var keywords = DovecotKeywords.parse(text).keywords
        _ = keywords.fileText
        _ = try? keywords.assign("Fuzz", origin: "fuzz")
        for line in text.split(separator: "\n").prefix(64) {
            let parsed = MaildirFlags.parse(fileName: String(line))
            _ = parsed.flags.fileName(baseName: parsed.baseName)
        }
    }

    static func modifiedUTF7(_ input: UnsafeRawBufferPointer) {
        let text = String(decoding: input, as: UTF8.self)
        if let decoded = try? ModifiedUTF7.decode(text) {
            // Decoding then encoding gives the canonical form, which must decode to the same name.
            let again = ModifiedUTF7.encode(decoded)
            guard (try? ModifiedUTF7.decode(again)) == decoded else {
                fatalError("modified UTF-7 round trip differs: \(String(reflecting: text)) -> \(String(reflecting: again))")
            }
        }
        let encoded = ModifiedUTF7.encode(text)
        guard (try? ModifiedUTF7.decode(encoded)) == text else {
            fatalError("modified UTF-7 does not give back \(String(reflecting: text)) (encoded \(String(reflecting: encoded)))")
        }
    }
}
