import ArgumentParser

/// `--identity`: the age keys that open an encrypted archive (`NAME.mfa.age`), for every command that reads one.
struct IdentityOptions: ParsableArguments {
    @Option(
        name: .customLong("identity"),
        help: ArgumentHelp(
            "An age identity file (KEY.age.key from `mailferry keygen --encryption` or `age-keygen`) that opens an encrypted archive (repeatable).",
            valueName: "file"))
    var paths: [String] = []
}
