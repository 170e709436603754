// Test support for SyntheticCTests: building a generated program with gcc through make.

import Foundation
import LTOTestSupport
import Testing

@testable import SyntheticC

/// Runs `argv` in `cwd` with the C locale; throws with the output when `check` and it fails.
@discardableResult
func run(_ argv: [String], in cwd: String, environment: [String: String] = [:], check: Bool = true) throws -> Shell.Result {
    let env = environment.merging(["LC_ALL": "C"]) { mine, _ in mine }
    return check ? try Shell.check(argv, cwd: cwd, env: env) : try Shell.run(argv, cwd: cwd, env: env)
}

/// A makefile that compiles every `.c` in its directory to an LTO object
/// (`-j2` keeps two cores busy); objects depend on common.h.
func writeMakefile(in dir: String, cflags: String) throws {
    let text = """
        SRCS := $(sort $(wildcard *.c))
        OBJS := $(SRCS:.c=.o)
        all: $(OBJS)
        %.o: %.c common.h
        \tgcc \(cflags) -c $< -o $@

        """
    try Data(text.utf8).write(to: URL(fileURLWithPath: dir + "/Makefile"))
}

func compileObjects(in dir: String) throws {
    try run(["make", "-s", "-j2", "all"], in: dir)
}

/// Names of WPA's partition files (`app.ltransK.o`, not LTRANS outputs
/// `app.ltransK.ltrans.o`) left by `-save-temps`.
func partitionFiles(in dir: String, output: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: dir).filter { name in
        guard name.hasPrefix(output + ".ltrans"), name.hasSuffix(".o") else { return false }
        let middle = name.dropFirst(output.count + ".ltrans".count).dropLast(2)
        return !middle.isEmpty && middle.allSatisfy(\.isNumber)
    }
}

let gccAvailable: Bool = {
    (try? run(["gcc", "--version"], in: "/", check: false).status) == 0
}()
