import Foundation
import Testing
import TestSupport

/// The `.blocking` trait moves a suite's bodies off Swift's cooperative pool, whose threads the servers under test
/// need (`BlockingBodies`).
@Suite(.blocking) struct BlockingBodiesTests {
    @Test func aSynchronousBodyRunsOnATestBodyThread() {
        #expect(currentThreadName().hasPrefix("test body"), "\(currentThreadName())")
    }

    @Test func anAsynchronousBodyComesBackToATestBodyThreadAfterASuspension() async throws {
        try await Task.sleep(for: .milliseconds(20))
        #expect(currentThreadName().hasPrefix("test body"), "\(currentThreadName())")
    }

    @Test func anUnmarkedBodyRunsOnTheCooperativePool() async {
        // The control: without the trait the same check must fail, or the two above prove nothing.
        let name = await Task.detached { currentThreadName() }.value
        #expect(!name.hasPrefix("test body"), "\(name)")
    }
}

private func currentThreadName() -> String {
    Thread.current.name ?? ""
}
