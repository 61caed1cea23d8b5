import MailModel

/// Writes `IMAPCommand`s as bytes (RFC 9051 section 9 command grammar). Strings become an atom, a quoted
/// string or a literal, whichever is allowed; mailbox names are encoded to modified UTF-7 first.
public struct IMAPCommandEncoder: Sendable {
    public var literalMode: IMAPLiteralMode

    public init(literalMode: IMAPLiteralMode = .synchronizing) { self.literalMode = literalMode }
    public init(capabilities: Set<String>) { literalMode = IMAPLiteralMode(capabilities: capabilities) }

    /// command = tag SP (command-any / command-auth / command-nonauth / command-select) CRLF
    public func encode(_ command: IMAPCommand, tag: String) -> IMAPEncodedCommand {
        var w = Writer(literalMode: literalMode)
        w.raw(tag)
        w.raw(" ")
        switch command {
        case .capability, .noop, .logout, .startTLS, .namespace:
            w.raw(command.name)
        case .login(let user, let password):
            // login = "LOGIN" SP userid SP password
            w.raw("LOGIN ")
            w.astring(Array(user.utf8))
            w.raw(" ")
            w.astring(Array(password.utf8))
        case .authenticatePlain(let authzid, let authcid, let password, let initialResponse):
            // authenticate = "AUTHENTICATE" SP auth-type [SP initial-resp] *(CRLF base64)
            // RFC 4616: message = [authzid] UTF8NUL authcid UTF8NUL passwd
            let message = Array((authzid ?? "").utf8) + [0] + Array(authcid.utf8) + [0] + Array(password.utf8)
            let encoded = Base64.encode(message)
            w.raw("AUTHENTICATE PLAIN")
            if initialResponse {
                w.raw(" ")
                w.raw(encoded.isEmpty ? "=" : encoded)
            } else {
                w.raw("\r\n")
                w.awaitContinuation()
                w.raw(encoded)
            }
        case .enable(let capabilities):
            // enable = "ENABLE" 1*(SP capability)
            w.raw("ENABLE")
            for capability in capabilities { w.raw(" " + capability) }
        case .list(let reference, let pattern):
            // list = "LIST" SP mailbox SP list-mailbox
            w.raw("LIST ")
            w.mailbox(reference)
            w.raw(" ")
            w.listMailbox(pattern)
        case .listExtended(let reference, let pattern, let specialUseOnly):
            // list = "LIST" [SP list-select-opts] SP mailbox SP mbox-or-pat [SP list-return-opts]
            w.raw(specialUseOnly ? "LIST (SPECIAL-USE) " : "LIST ")
            w.mailbox(reference)
            w.raw(" ")
            w.listMailbox(pattern)
            w.raw(" RETURN (SUBSCRIBED SPECIAL-USE)")
        case .lsub(let reference, let pattern):
            w.raw("LSUB ")
            w.mailbox(reference)
            w.raw(" ")
            w.listMailbox(pattern)
        case .select(let mailbox, let readOnly, let condStore):
            // select = "SELECT" SP mailbox [select-params] ; examine = "EXAMINE" SP mailbox [select-params]
            // select-params = SP "(" select-param *(SP select-param) ")" ; select-param =/ "CONDSTORE"
            w.raw(readOnly ? "EXAMINE " : "SELECT ")
            w.mailbox(mailbox)
            if condStore { w.raw(" (CONDSTORE)") }
        case .status(let mailbox, let items):
            // status = "STATUS" SP mailbox SP "(" status-att *(SP status-att) ")"
            w.raw("STATUS ")
            w.mailbox(mailbox)
            w.raw(" (" + items.joined(separator: " ") + ")")
        case .uidFetch(let uids, let items):
            // uid = "UID" SP (copy / move / fetch / search / store / uid-expunge)
            // fetch = "FETCH" SP sequence-set SP ("ALL" / "FULL" / "FAST" / fetch-att / "(" fetch-att *(SP fetch-att) ")")
            w.raw("UID FETCH \(uids) (" + items.joined(separator: " ") + ")")
        case .uidFetchChangedSince(let uids, let items, let modSeq):
            // fetch-modifier = chgsince-fetch-mod ; chgsince-fetch-mod = "CHANGEDSINCE" SP mod-sequence-value
            w.raw("UID FETCH \(uids) (" + items.joined(separator: " ") + ") (CHANGEDSINCE \(modSeq))")
        case .uidSearch(let keys, let esearch):
            // search = "SEARCH" [search-return-opts] [SP "CHARSET" SP charset] 1*(SP search-key)
            w.raw("UID SEARCH")
            if esearch { w.raw(" RETURN (ALL)") }
            if keys.contains(where: \.needsUTF8) { w.raw(" CHARSET UTF-8") }
            for key in keys.isEmpty ? [.all] : keys {
                w.raw(" ")
                w.searchKey(key)
            }
        case .create(let mailbox):
            w.raw("CREATE ")
            w.mailbox(mailbox)
        case .subscribe(let mailbox):
            w.raw("SUBSCRIBE ")
            w.mailbox(mailbox)
        case .getACL(let mailbox):
            // getacl = "GETACL" SP mailbox
            w.raw("GETACL ")
            w.mailbox(mailbox)
        case .setACL(let mailbox, let identifier, let rights):
            // setacl = "SETACL" SP mailbox SP identifier SP mod-rights
            w.raw("SETACL ")
            w.mailbox(mailbox)
            w.raw(" ")
            w.astring(Array(identifier.utf8))
            w.raw(" ")
            w.astring(Array(rights.utf8))
        case .deleteACL(let mailbox, let identifier):
            // deleteacl = "DELETEACL" SP mailbox SP identifier
            w.raw("DELETEACL ")
            w.mailbox(mailbox)
            w.raw(" ")
            w.astring(Array(identifier.utf8))
        case .myRights(let mailbox):
            w.raw("MYRIGHTS ")
            w.mailbox(mailbox)
        case .uidStoreFlags(let uids, let flags):
            // store = "STORE" SP sequence-set SP store-att-flags ; store-att-flags = (["+" / "-"] "FLAGS" [".SILENT"]) SP (flag-list / (flag *(SP flag)))
            w.raw("UID STORE \(uids) FLAGS.SILENT (" + flags.joined(separator: " ") + ")")
        case .uidMove(let uids, let mailbox):
            // move = "MOVE" SP sequence-set SP mailbox
            w.raw("UID MOVE \(uids) ")
            w.mailbox(mailbox)
        case .uidCopy(let uids, let mailbox):
            // copy = "COPY" SP sequence-set SP mailbox
            w.raw("UID COPY \(uids) ")
            w.mailbox(mailbox)
        case .uidExpunge(let uids):
            // uid-expunge = "UID" SP "EXPUNGE" SP sequence-set
            w.raw("UID EXPUNGE \(uids)")
        case .rename(let from, let to):
            // rename = "RENAME" SP mailbox SP mailbox
            w.raw("RENAME ")
            w.mailbox(from)
            w.raw(" ")
            w.mailbox(to)
        case .delete(let mailbox):
            // delete = "DELETE" SP mailbox
            w.raw("DELETE ")
            w.mailbox(mailbox)
        case .append(let mailbox, let flags, let date, let size):
            // append = "APPEND" SP mailbox [SP flag-list] [SP date-time] SP literal
            w.raw("APPEND ")
            w.mailbox(mailbox)
            if !flags.isEmpty { w.raw(" (" + flags.joined(separator: " ") + ")") }
            if let date { w.raw(" \"" + Self.dateTime(date) + "\"") }
            w.raw(" ")
            w.literalAnnouncement(size: size)
            return IMAPEncodedCommand(tag: tag, name: command.name, parts: w.finish(crlf: false))
        case .multiAppend(let mailbox, let messages):
            // append = "APPEND" SP mailbox 1*append-message   (RFC 3502)
            // append-message = [SP flag-list] [SP date-time] SP literal
            w.raw("APPEND ")
            w.mailbox(mailbox)
            for (index, message) in messages.enumerated() {
                if !message.flags.isEmpty { w.raw(" (" + message.flags.joined(separator: " ") + ")") }
                if let date = message.internalDate { w.raw(" \"" + Self.dateTime(date) + "\"") }
                w.raw(" ")
                w.literalAnnouncement(size: message.size)
                w.messageBytes(index)
            }
            return IMAPEncodedCommand(tag: tag, name: command.name, parts: w.finish(crlf: false))
        }
        return IMAPEncodedCommand(tag: tag, name: command.name, parts: w.finish(crlf: true))
    }

    /// flag = "\\" atom / atom ; what a flag-list may hold (RFC 9051 section 9), `\\*` excluded
    public static func isValidFlag(_ flag: String) -> Bool {
        var bytes = Array(flag.utf8)
        if bytes.first == UInt8(ascii: "\\") { bytes.removeFirst() }
        return !bytes.isEmpty && bytes.allSatisfy(IMAPByteCursor.isAtomChar)
    }

    /// date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE, in the date's own
    /// zone (UTC when it has none); sub-second precision is not expressible.
    public static func dateTime(_ date: InternalDate) -> String {
        let offset = Int64(date.utcOffsetMinutes ?? 0)
        // A date from an archive may be any Int64: clamped into the range the arithmetic handles (the server then
        // refuses the year, and the item is reported) instead of overflowing.
        let seconds = min(max(date.epochSeconds, InternalDate.calendarRange.lowerBound), InternalDate.calendarRange.upperBound)
        let local = seconds + offset * 60
        let days = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
        let secondsOfDay = local - days * 86_400
        let (year, month, day) = civil(fromDays: days)
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let yearText = String(repeating: "0", count: max(0, 4 - String(year).count)) + String(year)
        let zone = (offset < 0 ? "-" : "+") + two(abs(offset) / 60) + two(abs(offset) % 60)
        return "\(two(day))-\(IMAPDate.months[Int(month - 1)])-\(yearText) "
            + "\(two(secondsOfDay / 3600)):\(two(secondsOfDay / 60 % 60)):\(two(secondsOfDay % 60)) \(zone)"
    }

    /// Days since 1970-01-01 to a proleptic Gregorian (year, month, day).
    static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Accumulates bytes and cuts a part where a synchronizing literal waits.
    struct Writer {
        let literalMode: IMAPLiteralMode
        var parts: [IMAPEncodedCommand.Part] = []
        var current: [UInt8] = []

        mutating func raw(_ text: String) { current += Array(text.utf8) }

        mutating func awaitContinuation() {
            parts.append(.data(current))
            current = []
            parts.append(.awaitContinuation)
        }

        /// Marks where a MULTIAPPEND message's bytes go.
        mutating func messageBytes(_ index: Int) {
            if !current.isEmpty { parts.append(.data(current)) }
            current = []
            parts.append(.messageBytes(index))
        }

        mutating func literalAnnouncement(size: Int64) {
            if literalMode.isNonSynchronizing(size: size) {
                raw("{\(size)+}\r\n")
            } else {
                raw("{\(size)}\r\n")
                awaitContinuation()
            }
        }

        /// astring = 1*ASTRING-CHAR / string
        mutating func astring(_ bytes: [UInt8]) {
            if !bytes.isEmpty && bytes.allSatisfy(IMAPByteCursor.isAstringChar) {
                current += bytes
            } else {
                string(bytes)
            }
        }

        /// string = quoted / literal ; quoted when every byte is a 7-bit TEXT-CHAR (no NUL, CR, LF)
        mutating func string(_ bytes: [UInt8]) {
            if bytes.count <= 1024 && bytes.allSatisfy({ $0 >= 0x01 && $0 <= 0x7f && $0 != 0x0d && $0 != 0x0a }) {
                current.append(UInt8(ascii: "\""))
                for byte in bytes {
                    if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { current.append(UInt8(ascii: "\\")) }
                    current.append(byte)
                }
                current.append(UInt8(ascii: "\""))
            } else {
                literalAnnouncement(size: Int64(bytes.count))
                current += bytes
            }
        }

        /// mailbox = "INBOX" / astring, in modified UTF-7
        mutating func mailbox(_ name: String) {
            astring(Array(ModifiedUTF7.encode(name).utf8))
        }

        /// list-mailbox = 1*list-char / string ; list-char = ATOM-CHAR / list-wildcards / resp-specials
        mutating func listMailbox(_ pattern: String) {
            let bytes = Array(ModifiedUTF7.encode(pattern).utf8)
            let listChar: (UInt8) -> Bool = {
                IMAPByteCursor.isAstringChar($0) || $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "*")
            }
            if !bytes.isEmpty && bytes.allSatisfy(listChar) {
                current += bytes
            } else {
                string(bytes)
            }
        }

        mutating func searchKey(_ key: IMAPSearchKey) {
            switch key {
            case .all: raw("ALL")
            case .larger(let n): raw("LARGER \(n)")
            case .smaller(let n): raw("SMALLER \(n)")
            case .header(let name, let value):
                raw("HEADER ")
                astring(Array(name.utf8))
                raw(" ")
                string(Array(value.utf8))
            case .on(let date): raw("ON " + date.imapText)
            case .since(let date): raw("SINCE " + date.imapText)
            case .before(let date): raw("BEFORE " + date.imapText)
            case .uid(let set): raw("UID \(set)")
            case .not(let inner):
                raw("NOT ")
                searchKey(inner)
            case .or(let a, let b):
                raw("OR ")
                searchKey(a)
                raw(" ")
                searchKey(b)
            }
        }

        mutating func finish(crlf: Bool) -> [IMAPEncodedCommand.Part] {
            if crlf { current += [0x0d, 0x0a] }
            if !current.isEmpty { parts.append(.data(current)) }
            return parts
        }
    }
}

extension IMAPSearchKey {
    var needsUTF8: Bool {
        switch self {
        case .header(let name, let value): !(name + value).utf8.allSatisfy { $0 < 0x80 }
        case .not(let inner): inner.needsUTF8
        case .or(let a, let b): a.needsUTF8 || b.needsUTF8
        default: false
        }
    }
}
