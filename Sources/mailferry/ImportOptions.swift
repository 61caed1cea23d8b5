import ArgumentParser

/// What `import` and `reconcile` take beyond `ServerOptions` for an IMAP target: the import journal and the
/// bad-item limit.
struct ImportOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Where the IMAP import journal lives (default $XDG_STATE_HOME/mailferry/journal or ~/.local/state/mailferry/journal).", valueName: "dir"))
    var journal: String?

    @Option(name: .customLong("max-bad-items"), help: "How many items the target may refuse (too large, bad bytes) before the import stops; each is listed in the report.")
    var maxBadItems = 0

    func validate() throws {
        if maxBadItems < 0 { throw ValidationError("--max-bad-items must be 0 or more") }
    }
}
