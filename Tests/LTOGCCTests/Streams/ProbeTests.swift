import Foundation
import LTOGCC
import Testing

@Suite struct ProbeTests {
    @Test func probeLua() throws {
        let dir = try StreamScratch()
        let parts = try dir.partitions(sources: try LuaFixture.files(), in: LuaFixture.directory, flags: ["-O2", "-std=c99", "-DLUA_USE_LINUX"], linkFlags: ["-lm", "-ldl"], output: "lua")
        var failures = 0
        for (i, p) in parts.enumerated() {
            switch p.streams(.exact) {
            case .success(let s): if i < 3 { print("partition \(i): \(s.sections.count) sections") }
            case .failure(let e): failures += 1; print("partition \(i): \(e)"); try? Data(p.bytes).write(to: URL(fileURLWithPath: "/tmp/probe/p\(i).o"))
            }
        }
        print("partitions \(parts.count) failures \(failures)")
    }
}
