import ArgumentParser
import FerryKit
import MailModel
import Reporting

struct Copy: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy archives onto a mounted medium and read each copy back from the device to verify it.",
        discussion: """
            Each file is written as DIR/NAME.partial and fsynced; its cached pages are dropped and it is read back \
            from the device; only a copy whose SHA-256 matches the source's is renamed to DIR/NAME. A copy that \
            does not match is kept as DIR/NAME.bad and the exit status is 1.

            Before anything is written, every file must fit the file system's largest file (FAT32: 4 GiB - 1 \
            byte; exFAT has no such limit) and all of them its free space (exit status 2 otherwise, with the \
            --volume-size of an export whose volumes would fit). An interrupted \
            copy leaves DIR/NAME.partial: run the same command again and it goes on after the prefix that matches \
            the source, or starts over if none does. A DIR/NAME already there with the source's size is read back \
            and compared, not written again.

            Progress on standard error counts each byte twice: once written, once read back.

              mailferry copy june.mfa --to /media/stick
              mailferry copy june.mfa.age june-delta.mfa.age --to /media/stick
            """)

    @Argument(help: ArgumentHelp("The files to copy (archives, encrypted archives, volumes).", valueName: "file"))
    var files: [String]

    @Option(help: ArgumentHelp("The directory on the medium to copy into.", valueName: "dir"))
    var to: String

    func run() throws {
        _ = try perform {
            try VerifiedCopy(sources: files, destination: to, quiet: false).run { event in
                switch event {
                case .resumed(let path, let from):
                    print(
                        "\(path): resumed from byte \(from) (the partial copy's first \(from) bytes, read back from the medium, match the source)"
                    )
                case .startingOver(let path, let reason):
                    print("\(path): starting over: \(reason)")
                case .verified(let copied):
                    print(
                        "\(copied.path): \(copied.size) bytes (\(Format.bytes(copied.size))), SHA-256 \(copied.sha256), "
                            + (copied.wasThere ? "already there, verified" : "verified"))
                }
            }
        }
    }
}
