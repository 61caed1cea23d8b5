import Buffer

/// What the configuration suites share: the smallest configuration the buffer accepts, with lines added to its
/// tables, and the error a text gets (or "no error").
protocol ConfigurationCases {}

extension ConfigurationCases {
    func text(smtp: String = "", buffer: String = "", limits: String? = nil) -> String {
        "[smtp]\nlisten = \"127.0.0.1:2525\"\n\(smtp)\n[buffer]\nspool = \"s\"\nnamespace = \"buffer.example.com\"\n\(buffer)\n"
            + (limits.map { "[limits]\n\($0)\n" } ?? "")
    }

    func failure(_ text: String) -> String {
        do {
            _ = try BufferConfiguration.parse(text, path: "buffer.toml")
            return "no error"
        } catch {
            return "\(error)"
        }
    }
}
