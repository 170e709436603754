import Foundation
@testable import LTOGCC
import Testing

@Suite struct DebugTests {
    @Test func debugOne() throws {
        guard let path = ProcessInfo.processInfo.environment["PROBE"] else { return }
        debugTrace = true
        let p = Partition(bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
        print(p.streams(.exact))
    }
}
