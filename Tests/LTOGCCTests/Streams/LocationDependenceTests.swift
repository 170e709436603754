// The partition conditions under which locations may be left out of a key
// (docs/LTRANS-FACTS.md): no function optimized at -O0, no sanitizer checks to expand.
import Foundation
import LTOGCC
import LTOTestSupport
import Testing

@Suite struct LocationDependenceTests {
    let source = """
        int f(int x, int y) { return x / y + x * y; }
        int g(int *p) { return p[3] << 2; }
        int main(int argc, char **argv) { int a[4] = {1, 2, 3, argc}; return f(argc, 2) + g(a) + (argv != 0); }
        """

    func dependence(_ source: String, flags: [String], linkFlags: [String] = []) throws -> [String?] {
        let dir = try TemporaryDirectory("streams")
        try dir.write("src/a.c", source)
        return try dir.partitions(sources: ["a.c"], in: dir.file("src"), flags: flags, linkFlags: linkFlags, output: "out").map { partition in
            switch partition.streams(.abstractAll) {
            case .success(let streams): return streams.locationDependence
            case .failure(let error): return "unreadable: \(error.reason)"
            }
        }
    }

    @Test func optimizedCodeDoesNotDependOnLocations() throws {
        #expect(try dependence(source, flags: ["-O2"]).allSatisfy { $0 == nil })
    }

    @Test func aFunctionAtO0Does() throws {
        let reasons = try dependence("__attribute__((optimize(\"O0\"))) int h(int x) { return x + 1; }\n" + source, flags: ["-O2"])
        #expect(reasons.contains { $0 == "a function is optimized at -O0" }, "\(reasons)")
    }

    /// Every partition either falls back (exact locations) or names the checks.
    @Test func sanitizerChecksDo() throws {
        let undefined = try dependence(source, flags: ["-O2", "-fsanitize=undefined"], linkFlags: ["-fsanitize=undefined"])
        #expect(undefined.allSatisfy { $0 != nil }, "\(undefined)")
        let scoped = "int k(int c) { int *p; { int v = c; p = &v; } return *p; }\n" + source
        let address = try dependence(scoped, flags: ["-O2", "-fsanitize=address"], linkFlags: ["-fsanitize=address"])
        #expect(address.contains { $0?.hasSuffix("calls of sanitizer checks") ?? false }, "\(address)")
    }
}
