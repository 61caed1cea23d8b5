import Testing

@testable import Buffer

/// Configuration text with a table header that names no table: toml++ would abort the process on it (an assertion,
/// found by fuzzing), so it is refused first with the line, like any other syntax error.
@Suite struct TOMLTextTests: ConfigurationCases {
    @Test(arguments: [
        ("[\nlmtp]\nlisten = \"127.0.0.1:2424\"\n", 1, 2),
        ("[!]\n", 1, 2),
        ("[[ =x]]\n", 1, 4),
        ("\n\n  [\t?\n", 3, 5),
        ("[smtp]\nlisten = \"127.0.0.1:2525\"\n[\n", 3, 2),
    ])
    func aHeaderWithoutANameIsASyntaxErrorNotACrash(_ text: String, _ line: Int, _ column: Int) {
        #expect(TOMLText.headerWithoutName(in: text)! == (line, column))
        let message = failure(text)
        #expect(message.contains("line \(line): a table header needs a name"), "\(message)")
    }

    @Test(arguments: [
        // Brackets inside values, strings and comments are not headers.
        "hold = [\n  \"a@example.com\",\n]\n",
        "nested = [\n[ 1, 2 ],\n[\n3 ]\n]\n",
        "s = \"\"\"\n[!\n\"\"\"\n",
        "s = '''\n[\n'''\n",
        "s = \"a \\\" [!\"\n",
        "s = \"\"\"line \\\n[!\"\"\"\n",
        "# [!\n",
        "t = { a = [1, 2] }\n",
        "[\"quoted\"]\n[ 'literal' . bare ]\n[[ array ]]\n",
    ])
    func bracketsElsewhereAreLeftToTheTOMLParser(_ text: String) {
        #expect(TOMLText.headerWithoutName(in: text) == nil, "\(text)")
    }

    @Test func aValidConfigurationStillParses() throws {
        let c = try BufferConfiguration.parse(text(buffer: "hold = [\n  \"alice@example.com\", # first\n]"))
        #expect(c.hold == ["alice@example.com"])
    }
}
