import MailModel
import Testing

@Suite struct CRLFFormTests {
    private func converted(_ text: String) -> String {
        CRLFForm.converting(Array(text.utf8)).map { String(decoding: $0, as: UTF8.self) } ?? text
    }

    @Test func everyLineEndingBecomesCRLF() {
        #expect(converted("Subject: a\nTo: b\n\nbody\n") == "Subject: a\r\nTo: b\r\n\r\nbody\r\n")
        #expect(converted("a\rb\r") == "a\r\nb\r\n", "bare CRs (old Mac files)")
        #expect(converted("a\r\nb\nc\rd") == "a\r\nb\r\nc\r\nd", "mixed endings; a last line without an ending keeps none")
        #expect(converted("\n\r\r\n\n") == "\r\n\r\n\r\n\r\n")
        #expect(converted("\r") == "\r\n")
    }

    @Test func crlfTextIsLeftAlone() {
        #expect(CRLFForm.converting(Array("Subject: a\r\n\r\nbody\r\n".utf8)) == nil)
        #expect(CRLFForm.converting([]) == nil)
        #expect(CRLFForm.converting(Array("no line ending at all".utf8)) == nil)
        #expect(!CRLFForm.needsConversion(Array("x\r\ny".utf8)))
        #expect(CRLFForm.needsConversion(Array("x\r".utf8)))
        #expect(CRLFForm.needsConversion(Array("x\ny".utf8)))
    }

    @Test func theOutputDoesNotDependOnWhereChunksAreCut() {
        var rng = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = Array("ab\r\n".utf8)
        for _ in 0..<300 {
            let input = (0..<Int.random(in: 0...40, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }
            let whole = CRLFForm.converting(input) ?? input
            var form = CRLFForm()
            var out: [UInt8] = []
            var start = 0
            while start < input.count {
                let end = min(input.count, start + Int.random(in: 1...5, using: &rng))
                input[start..<end].withUnsafeBytes { form.convert($0) { out.append(contentsOf: $0) } }
                start = end
            }
            form.finish { out.append(contentsOf: $0) }
            #expect(out == whole, "\(input)")
            #expect(form.outputCount == Int64(whole.count))
            #expect((form.changedLineEndings == 0) == (CRLFForm.converting(input) == nil))
            #expect(!CRLFForm.needsConversion(whole), "the form is a fixed point")
        }
    }

    @Test func changedLineEndingsAreCounted() {
        var form = CRLFForm()
        var out: [UInt8] = []
        Array("a\nb\r\nc\rd\n".utf8).withUnsafeBytes { form.convert($0) { out.append(contentsOf: $0) } }
        form.finish { out.append(contentsOf: $0) }
        #expect(form.changedLineEndings == 3)
        #expect(String(decoding: out, as: UTF8.self) == "a\r\nb\r\nc\r\nd\r\n")
    }
}
