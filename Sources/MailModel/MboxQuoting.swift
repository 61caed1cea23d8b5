/// mboxrd `From ` quoting as a byte-at-a-time state machine, so that bodies of any size are quoted or
/// unquoted in chunks without holding a line in memory.
///
/// - Writing (`quote`): a line matching `^>*From ` gets one more `>` in front.
/// - Reading (`unquote`): a line matching `^>+From ` loses one `>`.
///
/// Reading applies the mboxrd rule to every mbox. For mboxo files this is the right answer for
/// `>From ` (which mboxo writers produce from `From `) but is ambiguous for a body line that really
/// began with `>From `: mboxo wrote it unchanged and we show it as `From `. The format cannot tell.
public struct MboxQuoting: Sendable {
    public enum Direction: Sendable {
        case quote
        case unquote
    }

    enum State: Sendable {
        case lineStart
        /// Inside a possible match: `greaterThan` `>` signs, then the first `matched` bytes of `From `.
        case pending(greaterThan: Int, matched: Int)
        case rest
    }

    static let from: [UInt8] = Array("From ".utf8)
    static let greaterThan = UInt8(ascii: ">")

    public let direction: Direction
    var state: State = .lineStart
    /// How many lines were quoted or unquoted so far.
    public private(set) var changedLines = 0

    public init(_ direction: Direction) { self.direction = direction }

    /// Processes the next bytes, appending the result to `output`.
    public mutating func feed(_ bytes: some Sequence<UInt8>, into output: inout [UInt8]) {
        for byte in bytes { step(byte, &output) }
    }

    /// The same for a chunk (the streaming reader's case), without generic dispatch per byte.
    public mutating func feed(_ bytes: [UInt8], into output: inout [UInt8]) {
        for byte in bytes { step(byte, &output) }
    }

    /// Ends the input: bytes held while a match was undecided are given back unchanged.
    public mutating func finish(into output: inout [UInt8]) {
        if case .pending(let count, let matched) = state { release(count, matched, &output) }
        state = .lineStart
    }

    mutating func step(_ byte: UInt8, _ output: inout [UInt8]) {
        switch state {
        case .rest:
            output.append(byte)
            if byte == RFC5322.lf { state = .lineStart }
        case .lineStart:
            if byte == Self.greaterThan {
                state = .pending(greaterThan: 1, matched: 0)
            } else if byte == Self.from[0] && direction == .quote {
                state = .pending(greaterThan: 0, matched: 1)
            } else {
                output.append(byte)
                state = byte == RFC5322.lf ? .lineStart : .rest
            }
        case .pending(let count, let matched):
            if matched == 0 && byte == Self.greaterThan {
                state = .pending(greaterThan: count + 1, matched: 0)
            } else if byte == Self.from[matched] {
                if matched + 1 < Self.from.count {
                    state = .pending(greaterThan: count, matched: matched + 1)
                } else {
                    let signs = direction == .quote ? count + 1 : count - 1
                    output.append(contentsOf: repeatElement(Self.greaterThan, count: signs))
                    output.append(contentsOf: Self.from)
                    changedLines += 1
                    state = .rest
                }
            } else {
                release(count, matched, &output)
                state = .rest
                output.append(byte)
                if byte == RFC5322.lf { state = .lineStart }
            }
        }
    }

    /// Gives back held bytes of a match that did not complete.
    func release(_ count: Int, _ matched: Int, _ output: inout [UInt8]) {
        output.append(contentsOf: repeatElement(Self.greaterThan, count: count))
        output.append(contentsOf: Self.from[0..<matched])
    }

    /// Quotes or unquotes a whole message in memory.
    public static func apply(_ direction: Direction, to bytes: some Sequence<UInt8>) -> [UInt8] {
        var machine = MboxQuoting(direction)
        var output: [UInt8] = []
        machine.feed(bytes, into: &output)
        machine.finish(into: &output)
        return output
    }
}
