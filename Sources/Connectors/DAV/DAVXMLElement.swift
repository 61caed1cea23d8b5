import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// One element of a DAV XML body (RFC 4918 section 14), by namespace and local name, with its text and children.
/// Built by `parse(_:)` with Foundation's streaming `XMLParser` (libxml2 on Linux); the whole tree is held, which
/// is bounded because the body it comes from is (`HTTPResponseParser.Limits.maxBodyBytes`) and no entity can make
/// it larger than its bytes: a document type declaration, where entities are declared, is refused before parsing.
final class DAVXMLElement {
    let namespace: String
    let name: String
    let attributes: [String: String]
    var text = ""
    var children: [DAVXMLElement] = []

    init(namespace: String, name: String, attributes: [String: String]) {
        self.namespace = namespace
        self.name = name
        self.attributes = attributes
    }

    static let dav = "DAV:"
    static let calDAV = "urn:ietf:params:xml:ns:caldav"
    static let cardDAV = "urn:ietf:params:xml:ns:carddav"
    static let apple = "http://apple.com/ns/ical/"

    func child(_ namespace: String, _ name: String) -> DAVXMLElement? {
        children.first { $0.namespace == namespace && $0.name == name }
    }

    func all(_ namespace: String, _ name: String) -> [DAVXMLElement] {
        children.filter { $0.namespace == namespace && $0.name == name }
    }

    /// Deeper elements never nest further than this in DAV answers; more is refused rather than walked.
    static let maxDepth = 64

    struct Refusal: Error, CustomStringConvertible {
        var description: String
    }

    /// Parses `bytes` into the document element. Refuses a document type declaration (where entities would be
    /// declared: an "XML bomb" expands a few hundred bytes into gigabytes) and anything not well formed.
    static func parse(_ bytes: [UInt8]) throws -> DAVXMLElement {
        if let declaration = documentTypeDeclaration(in: bytes) {
            throw Refusal(description: "the XML holds a document type declaration (\(declaration)); DAV answers need none, and its entities could expand without bound, so it is refused")
        }
        let builder = TreeBuilder()
        let parser = XMLParser(data: Data(bytes))
        parser.shouldProcessNamespaces = true
        parser.shouldResolveExternalEntities = false
        parser.delegate = builder
        let parsed = parser.parse()
        if let refusal = builder.refusal { throw Refusal(description: refusal) }
        // libxml2 through Foundation on Linux can report success for a document cut short: every element must close.
        guard builder.stack.isEmpty else {
            throw Refusal(description: "not well-formed XML: it ends before <\(builder.stack.last!.name)> is closed (a cut-off answer?)")
        }
        guard parsed, let root = builder.root else {
            let reason = parser.parserError.map { "\($0.localizedDescription)" } ?? "no document element"
            throw Refusal(description: "not well-formed XML (line \(parser.lineNumber)): \(reason)")
        }
        return root
    }

    /// The start of a `<!DOCTYPE` (or any other `<!` declaration) in the prolog, the only place XML allows one:
    /// the XML declaration, processing instructions, comments and white space are skipped up to the first element.
    static func documentTypeDeclaration(in bytes: [UInt8]) -> String? {
        var i = 0
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { i = 3 }
        func starts(_ text: String) -> Bool { bytes[i...].starts(with: Array(text.utf8)) }
        func skip(past end: String) {
            let e = Array(end.utf8)
            while i < bytes.count && !bytes[i...].starts(with: e) { i += 1 }
            i = min(bytes.count, i + e.count)
        }
        while i < bytes.count {
            switch bytes[i] {
            case 0x20, 0x09, 0x0D, 0x0A: i += 1
            case UInt8(ascii: "<"):
                if starts("<?") {
                    skip(past: "?>")
                } else if starts("<!--") {
                    skip(past: "-->")
                } else if starts("<!") {
                    return String(decoding: bytes[i..<min(bytes.count, i + 20)], as: UTF8.self)
                } else {
                    return nil
                }
            default: return nil
            }
        }
        return nil
    }

    private final class TreeBuilder: NSObject, XMLParserDelegate {
        var root: DAVXMLElement?
        var stack: [DAVXMLElement] = []
        var refusal: String?

        func parser(
            _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
            attributes: [String: String] = [:]
        ) {
            guard stack.count < DAVXMLElement.maxDepth else {
                refuse(parser, "elements nested deeper than \(DAVXMLElement.maxDepth)")
                return
            }
            let element = DAVXMLElement(namespace: namespaceURI ?? "", name: elementName, attributes: attributes)
            if let parent = stack.last { parent.children.append(element) } else { root = element }
            stack.append(element)
        }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
            _ = stack.popLast()
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            stack.last?.text += string
        }

        func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) {
            stack.last?.text += String(decoding: CDATABlock, as: UTF8.self)
        }

        // Never reached after the prolog check; a second guard should libxml2 report a declaration all the same.
        func parser(_ parser: XMLParser, foundInternalEntityDeclarationWithName name: String, value: String?) {
            refuse(parser, "an entity declaration (\(name))")
        }

        func parser(_ parser: XMLParser, foundExternalEntityDeclarationWithName name: String, publicID: String?, systemID: String?) {
            refuse(parser, "an external entity declaration (\(name))")
        }

        private func refuse(_ parser: XMLParser, _ what: String) {
            if refusal == nil { refusal = "the XML holds \(what); refused" }
            parser.abortParsing()
        }
    }
}
