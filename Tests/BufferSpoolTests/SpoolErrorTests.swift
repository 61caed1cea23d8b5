import Foundation
import Testing

@testable import BufferSpool

@Suite struct SpoolErrorTests {
    @Test func fullFileSystemErrnosMapToInsufficientStorage() {
        #expect(SpoolError.fromErrno(ENOSPC, operation: "write", path: "/s/x") == .insufficientStorage(path: "/s/x"))
        #expect(SpoolError.fromErrno(EDQUOT, operation: "fsync", path: "/s/x") == .insufficientStorage(path: "/s/x"))
        let mapped = SpoolError.fromErrno(EIO, operation: "fsync", path: "/s/x")
        guard case .io(let operation, _, let code, let reason) = mapped else {
            Issue.record("EIO must be an I/O error")
            return
        }
        #expect(operation == "fsync")
        #expect(code == EIO)
        #expect(!reason.isEmpty)
    }

    @Test func descriptionsSayWhatAndWhere() {
        let error = SpoolError.hashMismatch(
            id: MessageID(rawValue: 7), path: "/s/messages/x.eml", expected: "aa", actual: "bb", expectedSize: 3,
            actualSize: 3)
        #expect(error.description.contains("#7"))
        #expect(error.description.contains("/s/messages/x.eml"))
        #expect(error.description.contains("must not be delivered"))
    }
}
