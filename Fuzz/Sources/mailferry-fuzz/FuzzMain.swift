import Foundation
import FuzzSupport

/// The parsers of archives, protocols and the data model. (The configuration files' parsers are in
/// mailferry-fuzz-config, which needs the buffer's and FerryKit's dependencies.)
enum FuzzTargets {
    static let all: [FuzzTarget] = [
        FuzzTarget(name: "statement", summary: "statement JSON, signed by the fuzz key and read by verify", run: ArchiveFuzz.statement),
        FuzzTarget(name: "manifest", summary: "manifest lines in a signed archive (inspect's head, verify)", run: ArchiveFuzz.manifest),
        FuzzTarget(name: "manifestline", summary: "manifest lines: the canonical fast path against JSONDecoder", run: ArchiveFuzz.manifestLine),
        FuzzTarget(name: "tar", summary: "the item region's tar bytes and a manifest, framed and signed, then verified", run: ArchiveFuzz.tar),
        FuzzTarget(name: "archive", summary: "whole archive files: open, inspect without a key, verify with the fuzz key", run: ArchiveFuzz.archive),
        FuzzTarget(name: "seektable", summary: "the end of an archive file: seek table and last frame", run: ArchiveFuzz.seekTable),
        FuzzTarget(name: "age", summary: "encrypted archives: the age header, stanzas and payload layout, opened with the test identity", run: AgeFuzz.age),
        FuzzTarget(name: "imap", summary: "IMAP server bytes through the response framer and parser", run: ProtocolFuzz.imap),
        FuzzTarget(name: "managesieve", summary: "ManageSieve server bytes through the response line parser", run: ProtocolFuzz.manageSieve),
        FuzzTarget(name: "smtp", summary: "SMTP/LMTP client bytes through the framer, command parser and session", run: ProtocolFuzz.smtp),
        FuzzTarget(name: "lmtp-reply", summary: "LMTP server replies through the client reply parser", run: ProtocolFuzz.lmtpReply),
        FuzzTarget(name: "contentlines", summary: "vCard and iCalendar content lines, and the address rewriters (with Sieve scripts)", run: MailModelFuzz.contentLines),
        FuzzTarget(name: "mbox", summary: "mbox files through the reader and From-line quoting", run: MailModelFuzz.mbox),
        FuzzTarget(name: "headers", summary: "RFC 5322 headers, dates and encoded words", run: MailModelFuzz.headers),
        FuzzTarget(name: "mutf7", summary: "modified UTF-7 mailbox names", run: MailModelFuzz.modifiedUTF7),
        FuzzTarget(name: "maildir", summary: "dovecot-uidlist, dovecot-keywords and Maildir file names", run: MailModelFuzz.maildir),
    ]
}

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func mailferryFuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzDispatch.fuzzOne(FuzzTargets.all, data, size)
    return 0
}
#endif

@main
enum FuzzMain {
    static func main() { FuzzDispatch.main(FuzzTargets.all) }
}
