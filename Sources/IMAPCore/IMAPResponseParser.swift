import MailModel

/// The response grammar of RFC 9051 section 9 (and RFC 3501's, which IMAP4rev1 servers such as Dovecot 2.3
/// speak), applied to complete responses the `IMAPResponseDecoder` assembled. Each function parses the rule in
/// the comment above it, advances past it, or throws and leaves the cursor where it was.
public enum IMAPResponseParser {
    typealias Cursor = IMAPByteCursor

    // MARK: Entry points

    /// greeting = "*" SP (resp-cond-auth / resp-cond-bye) CRLF
    /// resp-cond-auth = ("OK" / "PREAUTH") SP resp-text
    /// resp-cond-bye = "BYE" SP resp-text
    public static func parseGreeting(_ line: [UInt8]) throws(IMAPCoreError) -> IMAPGreeting {
        var c = Cursor(line)
        try c.expect(UInt8(ascii: "*"))
        try c.expectSpace()
        for status in [IMAPStatus.ok, .preauth, .bye] where c.skipKeyword(status.rawValue) {
            return IMAPGreeting(status: status, text: try respTextAfterSpace(&c))
        }
        throw c.error("expected a greeting (OK, PREAUTH or BYE)")
    }

    /// response = continue-req / response-data / response-tagged
    /// continue-req = "+" SP (resp-text / base64) CRLF
    /// response-tagged = tag SP resp-cond-state CRLF
    /// A FETCH response without streamed bodies comes back as fetchStart, its items and fetchEnd.
    public static func parseResponse(_ line: [UInt8]) throws(IMAPCoreError) -> [IMAPResponseEvent] {
        var c = Cursor(line)
        if c.skip(UInt8(ascii: "+")) {
            _ = c.skip(0x20)  // some servers send a bare "+"
            return [.continuation(c.rest())]
        }
        if c.skip(UInt8(ascii: "*")) {
            try c.expectSpace()
            return try responseData(&c)
        }
        let tag = try tag(&c)
        try c.expectSpace()
        let status: IMAPStatus
        if c.skipKeyword("OK") {
            status = .ok
        } else if c.skipKeyword("NO") {
            status = .no
        } else if c.skipKeyword("BAD") {
            status = .bad
        } else {
            throw c.error("expected OK, NO or BAD after the tag")
        }
        return [.tagged(IMAPTaggedResponse(tag: tag, status: status, text: try respTextAfterSpace(&c)))]
    }

    // MARK: Untagged data

    /// response-data = "*" SP (resp-cond-state / resp-cond-bye / mailbox-data / message-data / capability-data /
    ///                 enable-data / namespace-response / acl-data / myrights-data) CRLF
    /// message-data = nz-number SP ("EXPUNGE" / ("FETCH" SP msg-att))
    static func responseData(_ c: inout Cursor) throws(IMAPCoreError) -> [IMAPResponseEvent] {
        if let byte = c.peek, byte >= 0x30 && byte <= 0x39 {
            let n = try number(&c)
            try c.expectSpace()
            if c.skipKeyword("EXISTS") { return [.untagged(.exists(n))] }
            if c.skipKeyword("RECENT") { return [.untagged(.recent(n))] }
            if c.skipKeyword("EXPUNGE") { return [.untagged(.expunge(n))] }
            try c.expectKeyword("FETCH")
            try c.expectSpace()
            try c.expect(UInt8(ascii: "("))
            var events: [IMAPResponseEvent] = [.fetchStart(sequence: n)]
            let end = try fetchItems(&c, first: true, events: &events, allowStreamedBody: false)
            guard case .closed = end else { throw c.error("unexpected streamed body") }
            return events
        }
        let name = try atom(&c).uppercased()
        func done(_ response: IMAPUntaggedResponse) throws(IMAPCoreError) -> [IMAPResponseEvent] {
            _ = c.skip(0x20)  // a trailing space is tolerated
            guard c.atEnd else { throw c.error("unexpected text after \(name)") }
            return [.untagged(response)]
        }
        switch name {
        case "OK", "NO", "BAD", "BYE", "PREAUTH":
            return [.untagged(.condition(IMAPStatus(rawValue: name)!, try respTextAfterSpace(&c)))]
        case "CAPABILITY":
            return try done(.capability(try atomList(&c)))
        case "ENABLED":
            return try done(.enabled(try atomList(&c)))
        case "LIST", "LSUB", "XLIST":
            try c.expectSpace()
            let list = try mailboxList(&c)
            return try done(name == "LSUB" ? .lsub(list) : .list(list))
        case "NAMESPACE":
            try c.expectSpace()
            return try done(.namespace(try namespaceResponse(&c)))
        case "STATUS":
            try c.expectSpace()
            return try done(try statusResponse(&c))
        case "FLAGS":
            try c.expectSpace()
            return try done(.flags(try flagList(&c)))
        case "SEARCH":
            return try done(.search(try searchNumbers(&c)))
        case "ESEARCH":
            return try done(.esearch(try esearch(&c)))
        case "ACL":
            try c.expectSpace()
            return try done(try aclData(&c))
        case "MYRIGHTS":
            try c.expectSpace()
            let mailbox = try mailbox(&c)
            try c.expectSpace()
            return try done(.myRights(mailbox, try astringText(&c)))
        case "ID":
            return [.untagged(.id)]
        default:
            _ = c.rest()
            return [.untagged(.other(name))]
        }
    }

    /// capability-data = "CAPABILITY" *(SP capability) ; and enable-data = "ENABLED" *(SP capability)
    /// capability = ("AUTH=" auth-type) / atom
    static func atomList(_ c: inout Cursor) throws(IMAPCoreError) -> [String] {
        var items: [String] = []
        while c.peek == 0x20 {
            c.index += 1
            if c.atEnd || c.peek == UInt8(ascii: "]") { break }  // trailing space
            items.append(try atom(&c))
        }
        return items
    }

    /// mailbox-list = "(" [mbx-list-flags] ")" SP (DQUOTE QUOTED-CHAR DQUOTE / nil) SP mailbox
    ///                [SP mbox-list-extended]
    /// mbox-list-extended = "(" [mbox-list-extended-item *(SP mbox-list-extended-item)] ")"
    /// mbox-list-extended-item = mbox-list-extended-item-tag SP tagged-ext-val
    static func mailboxList(_ c: inout Cursor) throws(IMAPCoreError) -> IMAPListResponse {
        try c.attempt { (c: inout Cursor) throws(IMAPCoreError) in
            let attributes = try flagList(&c)
            try c.expectSpace()
            let separator = try quotedCharOrNil(&c)
            try c.expectSpace()
            let name = try mailbox(&c)
            var extended: [String] = []
            if c.peek == 0x20, c.index + 1 < c.bytes.count, c.bytes[c.index + 1] == UInt8(ascii: "(") {
                c.index += 2
                while !c.skip(UInt8(ascii: ")")) {
                    _ = c.skip(0x20)
                    extended.append(try astringText(&c).uppercased())
                    try c.expectSpace()
                    try skipValue(&c)
                }
            }
            return IMAPListResponse(
                attributes: attributes, separator: separator, mailbox: name, extendedItems: extended)
        }
    }

    /// DQUOTE QUOTED-CHAR DQUOTE / nil
    static func quotedCharOrNil(_ c: inout Cursor) throws(IMAPCoreError) -> Character? {
        if c.skipKeyword("NIL") { return nil }
        let bytes = try quoted(&c)
        guard bytes.count == 1 else { throw c.error("hierarchy delimiter must be one character") }
        return Character(Unicode.Scalar(bytes[0]))
    }

    /// namespace-response = "NAMESPACE" SP namespace SP namespace SP namespace
    static func namespaceResponse(_ c: inout Cursor) throws(IMAPCoreError) -> IMAPNamespaceResponse {
        let personal = try namespace(&c)
        try c.expectSpace()
        let other = try namespace(&c)
        try c.expectSpace()
        let shared = try namespace(&c)
        return IMAPNamespaceResponse(personal: personal, otherUsers: other, shared: shared)
    }

    /// namespace = nil / "(" 1*namespace-descr ")"
    /// namespace-descr = "(" string SP (DQUOTE QUOTED-CHAR DQUOTE / nil) [namespace-response-extensions] ")"
    static func namespace(_ c: inout Cursor) throws(IMAPCoreError) -> [IMAPNamespaceResponse.Description] {
        if c.skipKeyword("NIL") { return [] }
        try c.expect(UInt8(ascii: "("))
        var result: [IMAPNamespaceResponse.Description] = []
        repeat {
            try c.expect(UInt8(ascii: "("))
            let prefix = String(decoding: try string(&c), as: UTF8.self)
            try c.expectSpace()
            let separator = try quotedCharOrNil(&c)
            while c.skip(0x20) { try skipValue(&c) }  // namespace-response-extensions
            try c.expect(UInt8(ascii: ")"))
            result.append(.init(prefix: prefix, separator: separator))
        } while c.peek == UInt8(ascii: "(")
        try c.expect(UInt8(ascii: ")"))
        return result
    }

    /// mailbox-data =/ "STATUS" SP mailbox SP "(" [status-att-list] ")"
    /// status-att-list = status-att-val *(SP status-att-val)
    static func statusResponse(_ c: inout Cursor) throws(IMAPCoreError) -> IMAPUntaggedResponse {
        let name = try mailbox(&c)
        try c.expectSpace()
        try c.expect(UInt8(ascii: "("))
        var values: [String: UInt64] = [:]
        var ids: [String: String] = [:]
        while !c.skip(UInt8(ascii: ")")) {
            _ = c.skip(0x20)
            let key = try atom(&c).uppercased()
            try c.expectSpace()
            if c.peek == UInt8(ascii: "(") {
                // MAILBOXID (objectid): one atom in parentheses; anything else parenthesized is skipped.
                let start = c.index
                c.index += 1
                if let id = try? atom(&c), c.skip(UInt8(ascii: ")")) {
                    ids[key] = id
                } else {
                    c.index = start
                    try skipValue(&c)
                }
            } else if c.peek.map(Cursor.isAtomChar) == true {
                // A number, or an identifier that may start with digits (X-GUID 78fb05…).
                let token = try atom(&c)
                if token.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let number = UInt64(token), number <= UInt64(Int64.max) {
                    values[key] = number
                } else {
                    ids[key] = token
                }
            } else {
                try skipValue(&c)
            }
        }
        return .status(name, values, ids: ids)
    }

    /// mailbox-data =/ "SEARCH" *(SP nz-number) [SP search-sort-mod-seq]
    static func searchNumbers(_ c: inout Cursor) throws(IMAPCoreError) -> [UInt32] {
        var numbers: [UInt32] = []
        while c.skip(0x20) {
            if c.atEnd { break }
            if c.peek == UInt8(ascii: "(") {
                try skipValue(&c)  // (MODSEQ n)
                continue
            }
            numbers.append(try number(&c))
        }
        return numbers
    }

    /// esearch-response = "ESEARCH" [search-correlator] [SP "UID"] *(SP search-return-data)
    /// search-correlator = SP "(" "TAG" SP tag-string ")"
    /// search-return-data = "MIN" SP nz-number / "MAX" SP nz-number / "ALL" SP sequence-set /
    ///                      "COUNT" SP number / search-ret-data-ext
    static func esearch(_ c: inout Cursor) throws(IMAPCoreError) -> IMAPESearchResponse {
        var result = IMAPESearchResponse(tag: nil, uid: false)
        if c.peek == 0x20, c.index + 1 < c.bytes.count, c.bytes[c.index + 1] == UInt8(ascii: "(") {
            c.index += 2
            try c.expectKeyword("TAG")
            try c.expectSpace()
            result.tag = String(decoding: try string(&c), as: UTF8.self)
            try c.expect(UInt8(ascii: ")"))
        }
        while c.skip(0x20) {
            if c.atEnd { break }
            let key = try atom(&c).uppercased()
            if key == "UID" {
                result.uid = true
                continue
            }
            try c.expectSpace()
            switch key {
            case "MIN": result.min = try number(&c)
            case "MAX": result.max = try number(&c)
            case "COUNT": result.count = try number(&c)
            case "ALL": result.all = try sequenceSet(&c)
            default: try skipValue(&c)
            }
        }
        return result
    }

    /// Most numbers a sequence set in a response may expand to, so `1:4294967295` cannot exhaust memory.
    static let maxExpandedSequenceSet = 10_000_000

    /// sequence-set = (seq-number / seq-range) ["," sequence-set]
    /// seq-range = seq-number ":" seq-number
    static func sequenceSet(_ c: inout Cursor) throws(IMAPCoreError) -> [UInt32] {
        var numbers: [UInt32] = []
        repeat {
            let first = try number(&c)
            var last = first
            if c.skip(UInt8(ascii: ":")) { last = try number(&c) }
            let (low, high) = (min(first, last), max(first, last))
            guard numbers.count + Int(high - low) < maxExpandedSequenceSet else {
                throw IMAPCoreError(.limitExceeded, "sequence set with more than \(maxExpandedSequenceSet) numbers")
            }
            numbers.append(contentsOf: low...high)
        } while c.skip(UInt8(ascii: ","))
        return numbers
    }

    /// acl-data = "ACL" SP mailbox *(SP identifier SP rights)
    static func aclData(_ c: inout Cursor) throws(IMAPCoreError) -> IMAPUntaggedResponse {
        let name = try mailbox(&c)
        var entries: [IMAPACLEntry] = []
        while c.skip(0x20) {
            if c.atEnd { break }
            let identifier = try astringText(&c)
            try c.expectSpace()
            entries.append(IMAPACLEntry(identifier: identifier, rights: try astringText(&c)))
        }
        return .acl(name, entries)
    }

    // MARK: FETCH

    enum FetchItemsEnd: Equatable {
        case closed
        case streamedBody(section: String, size: Int64)
    }

    /// msg-att = "(" (msg-att-dynamic / msg-att-static) *(SP (msg-att-dynamic / msg-att-static)) ")"
    ///
    /// Parses items after the opening "(" (or, with `first` false, after a streamed body) up to the closing ")".
    /// With `allowStreamedBody`, a body item whose literal announcement ends the text stops the parse with
    /// `.streamedBody`: its bytes are the literal that follows.
    static func fetchItems(
        _ c: inout Cursor, first: Bool, events: inout [IMAPResponseEvent], allowStreamedBody: Bool
    ) throws(IMAPCoreError) -> FetchItemsEnd {
        var needSpace = !first
        while true {
            if c.skip(UInt8(ascii: ")")) {
                guard c.atEnd else { throw c.error("text after the end of FETCH") }
                events.append(.fetchEnd)
                return .closed
            }
            if needSpace { try c.expectSpace() }
            needSpace = true
            if let streamed = try fetchItem(&c, events: &events, allowStreamedBody: allowStreamedBody) {
                return streamed
            }
        }
    }

    /// msg-att-dynamic = "FLAGS" SP "(" [flag-fetch *(SP flag-fetch)] ")" / "MODSEQ" SP "(" mod-sequence-value ")"
    /// msg-att-static = "INTERNALDATE" SP date-time / "RFC822.SIZE" SP number64 / "UID" SP uniqueid /
    ///     "BODY" section ["<" number ">"] SP nstring / "BINARY" section-binary SP (nstring / literal8) /
    ///     "EMAILID" SP "(" objectid ")" / "THREADID" SP ("(" objectid ")" / nil) / "X-GUID" SP astring /
    ///     (any other item: skipped)
    static func fetchItem(_ c: inout Cursor, events: inout [IMAPResponseEvent], allowStreamedBody: Bool)
        throws(IMAPCoreError) -> FetchItemsEnd?
    {
        let nameSlice = c.take { Cursor.isAtomChar($0) && $0 != UInt8(ascii: "[") }
        guard !nameSlice.isEmpty else { throw c.error("expected a FETCH item") }
        let name = c.string(nameSlice).uppercased()
        var section: String? = nil
        if c.peek == UInt8(ascii: "[") {
            let start = c.index + 1
            try skipBracketed(&c)
            section = c.string(c.bytes[start..<(c.index - 1)])
            if c.skip(UInt8(ascii: "<")) {
                _ = try number64(&c)
                try c.expect(UInt8(ascii: ">"))
            }
        }
        try c.expectSpace()
        let isBody =
            (section != nil && (name == "BODY" || name == "BINARY"))
            || name == "RFC822" || name == "RFC822.TEXT" || name == "RFC822.HEADER"
        if isBody {
            let sectionText = section ?? name
            if c.skipKeyword("NIL") {
                events.append(.fetchAttribute(.bodyNil(section: sectionText)))
                return nil
            }
            if c.peek == UInt8(ascii: "\"") {
                let bytes = try quoted(&c)
                events.append(.fetchBodyStart(section: sectionText, size: Int64(bytes.count)))
                if !bytes.isEmpty { events.append(.fetchBodyBytes(bytes)) }
                events.append(.fetchBodyEnd)
                return nil
            }
            if allowStreamedBody, let size = try literalAnnouncementAtEnd(&c) {
                events.append(.fetchBodyStart(section: sectionText, size: size))
                return .streamedBody(section: sectionText, size: size)
            }
            let bytes = try literal(&c)
            events.append(.fetchBodyStart(section: sectionText, size: Int64(bytes.count)))
            if !bytes.isEmpty { events.append(.fetchBodyBytes(bytes)) }
            events.append(.fetchBodyEnd)
            return nil
        }
        let attribute: IMAPFetchAttribute
        switch name {
        case "UID":
            attribute = .uid(try number(&c))
        case "FLAGS":
            attribute = .flags(try flagList(&c))
        case "INTERNALDATE":
            attribute = .internalDate(try dateTime(&c))
        case "RFC822.SIZE":
            attribute = .rfc822Size(Int64(try number64(&c)))
        case "X-GUID":
            attribute = .xGUID(try astringText(&c))
        case "EMAILID":
            try c.expect(UInt8(ascii: "("))
            let id = try atom(&c)
            try c.expect(UInt8(ascii: ")"))
            attribute = .emailID(id)
        case "THREADID":
            if c.skipKeyword("NIL") {
                attribute = .threadID(nil)
            } else {
                try c.expect(UInt8(ascii: "("))
                let id = try atom(&c)
                try c.expect(UInt8(ascii: ")"))
                attribute = .threadID(id)
            }
        case "MODSEQ":
            try c.expect(UInt8(ascii: "("))
            let value = try number64(&c)
            try c.expect(UInt8(ascii: ")"))
            attribute = .modSeq(value)
        default:
            try skipValue(&c)
            attribute = .skipped(section.map { "\(name)[\($0)]" } ?? name)
        }
        events.append(.fetchAttribute(attribute))
        return nil
    }

    /// `{N}` or `~{N}` ending the text: the literal's bytes are not here but follow in the stream.
    static func literalAnnouncementAtEnd(_ c: inout Cursor) throws(IMAPCoreError) -> Int64? {
        let saved = c.index
        _ = c.skip(UInt8(ascii: "~"))
        guard c.skip(UInt8(ascii: "{")) else {
            c.index = saved
            return nil
        }
        let size = c.optional { (c: inout Cursor) throws(IMAPCoreError) in try number64(&c) }
        guard let size, c.skip(UInt8(ascii: "}")), c.atEnd else {
            c.index = saved
            return nil
        }
        return Int64(size)
    }

    /// section = "[" [section-spec] "]" ; the bracketed text may hold parenthesized header names and strings
    static func skipBracketed(_ c: inout Cursor) throws(IMAPCoreError) {
        try c.attempt { (c: inout Cursor) throws(IMAPCoreError) in
            try c.expect(UInt8(ascii: "["))
            while !c.skip(UInt8(ascii: "]")) {
                guard let byte = c.peek else { throw c.error("section not closed") }
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "{") || byte == UInt8(ascii: "(") {
                    try skipValue(&c)
                } else {
                    c.index += 1
                }
            }
        }
    }

    /// Skips one value of any shape: a parenthesized list (nested), a quoted string, a literal, or an atom-like
    /// token (with a bracketed section), so unknown FETCH items and extensions are passed over.
    static func skipValue(_ c: inout Cursor) throws(IMAPCoreError) {
        try c.attempt { (c: inout Cursor) throws(IMAPCoreError) in
            switch c.peek {
            case UInt8(ascii: "("):
                c.index += 1
                var first = true
                while !c.skip(UInt8(ascii: ")")) {
                    if !first { _ = c.skip(0x20) }
                    first = false
                    if c.peek == UInt8(ascii: ")") { continue }
                    try skipValue(&c)
                }
            case UInt8(ascii: "\""):
                _ = try quoted(&c)
            case UInt8(ascii: "{"), UInt8(ascii: "~"):
                _ = try literal(&c)
            case nil:
                throw c.error("expected a value")
            default:
                let token = c.take {
                    $0 > 0x20 && $0 < 0x7f && $0 != UInt8(ascii: "(") && $0 != UInt8(ascii: ")")
                        && $0 != UInt8(ascii: "[") && $0 != UInt8(ascii: "\"")
                }
                if c.peek == UInt8(ascii: "[") {
                    try skipBracketed(&c)
                    _ = c.take { $0 > 0x20 && $0 < 0x7f && $0 != UInt8(ascii: ")") && $0 != UInt8(ascii: "(") }
                } else if token.isEmpty {
                    throw c.error("expected a value")
                }
            }
        }
    }

    // MARK: Response text

    /// SP resp-text, where RFC 3501 servers may leave out the SP and the text.
    static func respTextAfterSpace(_ c: inout Cursor) throws(IMAPCoreError) -> IMAPResponseText {
        if c.atEnd { return IMAPResponseText(text: "") }
        try c.expectSpace()
        return try respText(&c)
    }

    /// resp-text = ["[" resp-text-code "]" SP] [text]
    static func respText(_ c: inout Cursor) throws(IMAPCoreError) -> IMAPResponseText {
        var code: IMAPResponseCode? = nil
        if c.peek == UInt8(ascii: "[") {
            c.index += 1
            code = try respTextCode(&c)
            try c.expect(UInt8(ascii: "]"))
            _ = c.skip(0x20)
        }
        return IMAPResponseText(code: code, text: c.rest())
    }

    /// resp-text-code = "ALERT" / "PERMANENTFLAGS" SP "(" [flag-perm *(SP flag-perm)] ")" / "READ-ONLY" /
    ///     "READ-WRITE" / "TRYCREATE" / "UIDNEXT" SP nz-number / "UIDVALIDITY" SP nz-number /
    ///     "UNSEEN" SP nz-number / capability-data / "APPENDUID" SP nz-number SP append-uid /
    ///     "COPYUID" SP nz-number SP uid-set SP uid-set / "ALREADYEXISTS" / "NONEXISTENT" /
    ///     "MAILBOXID" SP "(" objectid ")" / "HIGHESTMODSEQ" SP mod-sequence-value / "NOMODSEQ" /
    ///     atom [SP 1*<any TEXT-CHAR except "]">]
    /// A known code in an unexpected shape is kept as `.other`.
    static func respTextCode(_ c: inout Cursor) throws(IMAPCoreError) -> IMAPResponseCode {
        let start = c.index
        let name = try atom(&c).uppercased()
        let afterName = c.index
        let known = c.optional { (c: inout Cursor) throws(IMAPCoreError) -> IMAPResponseCode? in
            switch name {
            case "ALERT": return .alert
            case "READ-ONLY": return .readOnly
            case "READ-WRITE": return .readWrite
            case "TRYCREATE": return .tryCreate
            case "ALREADYEXISTS": return .alreadyExists
            case "NONEXISTENT": return .nonExistent
            case "NOMODSEQ": return .noModSeq
            case "CAPABILITY": return .capability(try atomList(&c))
            case "PERMANENTFLAGS":
                try c.expectSpace()
                return .permanentFlags(try flagList(&c))
            case "UIDNEXT", "UIDVALIDITY", "UNSEEN":
                try c.expectSpace()
                let n = try number(&c)
                return name == "UIDNEXT" ? .uidNext(n) : name == "UNSEEN" ? .unseen(n) : .uidValidity(n)
            case "APPENDUID":
                try c.expectSpace()
                let validity = try number(&c)
                try c.expectSpace()
                let set = c.string(c.take { $0 != UInt8(ascii: "]") && $0 != 0x20 })
                let first = set.split(whereSeparator: { $0 == ":" || $0 == "," }).first.flatMap { UInt32($0) }
                guard let first else { throw c.error("bad APPENDUID uid-set") }
                return .appendUID(uidValidity: validity, uid: first, uids: set)
            case "COPYUID":
                try c.expectSpace()
                let validity = try number(&c)
                try c.expectSpace()
                let source = c.string(c.take { $0 != UInt8(ascii: "]") && $0 != 0x20 })
                try c.expectSpace()
                let destination = c.string(c.take { $0 != UInt8(ascii: "]") && $0 != 0x20 })
                return .copyUID(uidValidity: validity, source: source, destination: destination)
            case "MAILBOXID":
                try c.expectSpace()
                try c.expect(UInt8(ascii: "("))
                let id = try atom(&c)
                try c.expect(UInt8(ascii: ")"))
                return .mailboxID(id)
            case "HIGHESTMODSEQ":
                try c.expectSpace()
                return .highestModSeq(try number64(&c))
            default:
                return nil
            }
        }
        if let known = known ?? nil, c.peek == UInt8(ascii: "]") { return known }
        c.index = afterName
        var raw: String? = nil
        if c.skip(0x20) {
            let text = c.take { $0 != UInt8(ascii: "]") }
            raw = c.string(text)
        }
        guard c.peek == UInt8(ascii: "]") else {
            c.index = start
            throw c.error("response code not closed by \"]\"")
        }
        return .other(name, raw)
    }

    // MARK: Basic rules

    /// tag = 1*<any ASTRING-CHAR except "+">
    static func tag(_ c: inout Cursor) throws(IMAPCoreError) -> String {
        let slice = c.take { Cursor.isAstringChar($0) && $0 != UInt8(ascii: "+") }
        guard !slice.isEmpty else { throw c.error("expected a tag") }
        return c.string(slice)
    }

    /// atom = 1*ATOM-CHAR
    static func atom(_ c: inout Cursor) throws(IMAPCoreError) -> String {
        let slice = c.take(while: Cursor.isAtomChar)
        guard !slice.isEmpty else { throw c.error("expected an atom") }
        return c.string(slice)
    }

    /// number = 1*DIGIT ; unsigned 32-bit integer
    static func number(_ c: inout Cursor) throws(IMAPCoreError) -> UInt32 {
        let start = c.index
        let value = try number64(&c)
        guard value <= UInt64(UInt32.max) else {
            c.index = start
            throw c.error("number beyond 32 bits")
        }
        return UInt32(value)
    }

    /// number64 = 1*DIGIT ; unsigned 63-bit integer
    static func number64(_ c: inout Cursor) throws(IMAPCoreError) -> UInt64 {
        let start = c.index
        let digits = c.take { $0 >= 0x30 && $0 <= 0x39 }
        guard !digits.isEmpty, digits.count <= 19 else {
            c.index = start
            throw c.error("expected a number")
        }
        var value: UInt64 = 0
        for digit in digits { value = value * 10 + UInt64(digit - 0x30) }
        guard value <= UInt64(Int64.max) else {
            c.index = start
            throw c.error("number beyond 63 bits")
        }
        return value
    }

    /// quoted = DQUOTE *QUOTED-CHAR DQUOTE
    /// QUOTED-CHAR = <any TEXT-CHAR except quoted-specials> / "\" quoted-specials / UTF8-2 / UTF8-3 / UTF8-4
    static func quoted(_ c: inout Cursor) throws(IMAPCoreError) -> [UInt8] {
        try c.attempt { (c: inout Cursor) throws(IMAPCoreError) in
            try c.expect(UInt8(ascii: "\""))
            var out: [UInt8] = []
            while true {
                guard let byte = c.peek else { throw c.error("quoted string not closed") }
                c.index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return out
                case UInt8(ascii: "\\"):
                    guard let next = c.peek, next == UInt8(ascii: "\"") || next == UInt8(ascii: "\\") else {
                        throw c.error("bad escape in quoted string")
                    }
                    out.append(next)
                    c.index += 1
                case 0x00, 0x0a, 0x0d:
                    c.index -= 1
                    throw c.error("CR, LF or NUL in a quoted string")
                default:
                    out.append(byte)
                }
            }
        }
    }

    /// literal = "{" number64 "}" CRLF *CHAR8 ; here with its bytes collected inline
    /// literal8 = "~{" number64 "}" CRLF *OCTET
    static func literal(_ c: inout Cursor) throws(IMAPCoreError) -> [UInt8] {
        try c.attempt { (c: inout Cursor) throws(IMAPCoreError) in
            _ = c.skip(UInt8(ascii: "~"))
            try c.expect(UInt8(ascii: "{"))
            let size = try number64(&c)
            try c.expect(UInt8(ascii: "}"))
            try c.expect(0x0d)
            try c.expect(0x0a)
            guard UInt64(c.bytes.count - c.index) >= size else { throw c.error("literal shorter than announced") }
            let bytes = Array(c.bytes[c.index..<(c.index + Int(size))])
            c.index += Int(size)
            return bytes
        }
    }

    /// string = quoted / literal
    static func string(_ c: inout Cursor) throws(IMAPCoreError) -> [UInt8] {
        c.peek == UInt8(ascii: "\"") ? try quoted(&c) : try literal(&c)
    }

    /// astring = 1*ASTRING-CHAR / string
    static func astring(_ c: inout Cursor) throws(IMAPCoreError) -> [UInt8] {
        if c.peek == UInt8(ascii: "\"") || c.peek == UInt8(ascii: "{") { return try string(&c) }
        let slice = c.take(while: Cursor.isAstringChar)
        guard !slice.isEmpty else { throw c.error("expected an astring") }
        return Array(slice)
    }

    static func astringText(_ c: inout Cursor) throws(IMAPCoreError) -> String {
        String(decoding: try astring(&c), as: UTF8.self)
    }

    /// mailbox = "INBOX" / astring
    static func mailbox(_ c: inout Cursor) throws(IMAPCoreError) -> IMAPMailboxName {
        let wire = try astringText(&c)
        return IMAPMailboxName(wire: wire.uppercased() == "INBOX" ? "INBOX" : wire)
    }

    /// flag-list = "(" [flag *(SP flag)] ")"
    /// flag = "\Answered" / "\Flagged" / "\Deleted" / "\Seen" / "\Draft" / flag-keyword / flag-extension
    /// flag-perm = flag / "\*" ; flag-fetch = flag / "\Recent" ; mbx-list-flags use the same shape
    static func flagList(_ c: inout Cursor) throws(IMAPCoreError) -> [String] {
        try c.attempt { (c: inout Cursor) throws(IMAPCoreError) in
            try c.expect(UInt8(ascii: "("))
            var flags: [String] = []
            while !c.skip(UInt8(ascii: ")")) {
                if !flags.isEmpty { try c.expectSpace() }
                if c.skip(UInt8(ascii: "\\")) {
                    if c.skip(UInt8(ascii: "*")) {
                        flags.append("\\*")
                    } else {
                        flags.append("\\" + (try atom(&c)))
                    }
                } else {
                    flags.append(try atom(&c))
                }
            }
            return flags
        }
    }

    static let months = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]

    /// date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE
    /// date-day-fixed = (SP DIGIT) / 2DIGIT ; time = 2DIGIT ":" 2DIGIT ":" 2DIGIT ; zone = ("+" / "-") 4DIGIT
    static func dateTime(_ c: inout Cursor) throws(IMAPCoreError) -> InternalDate {
        try c.attempt { (c: inout Cursor) throws(IMAPCoreError) in
            try c.expect(UInt8(ascii: "\""))
            func digits(_ n: Int) throws(IMAPCoreError) -> Int64 {
                var value: Int64 = 0
                for _ in 0..<n {
                    guard let byte = c.peek, byte >= 0x30 && byte <= 0x39 else { throw c.error("expected a digit") }
                    value = value * 10 + Int64(byte - 0x30)
                    c.index += 1
                }
                return value
            }
            let day = c.skip(0x20) ? try digits(1) : try digits(2)
            try c.expect(UInt8(ascii: "-"))
            let monthText = c.string(c.take { $0 != UInt8(ascii: "-") && $0 != UInt8(ascii: "\"") }).uppercased()
            guard let month = months.firstIndex(of: monthText) else { throw c.error("bad month") }
            try c.expect(UInt8(ascii: "-"))
            let year = try digits(4)
            try c.expectSpace()
            let hour = try digits(2)
            try c.expect(UInt8(ascii: ":"))
            let minute = try digits(2)
            try c.expect(UInt8(ascii: ":"))
            let second = try digits(2)
            try c.expectSpace()
            let sign: Int64
            if c.skip(UInt8(ascii: "+")) {
                sign = 1
            } else {
                try c.expect(UInt8(ascii: "-"))
                sign = -1
            }
            let zone = try digits(4)
            try c.expect(UInt8(ascii: "\""))
            guard day >= 1, day <= 31, hour < 24, minute < 60, second < 61, zone % 100 < 60 else {
                throw c.error("date-time out of range")
            }
            let offset = sign * (zone / 100 * 60 + zone % 100)
            let days = InternalDate.days(year: year, month: Int64(month + 1), day: day)
            let local = days * 86_400 + hour * 3600 + minute * 60 + second
            return InternalDate(epochSeconds: local - offset * 60, utcOffsetMinutes: Int16(offset))
        }
    }
}
