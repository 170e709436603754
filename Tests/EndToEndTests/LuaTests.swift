import Foundation
import LTOTestSupport
import Testing

/// Lua 5.4 (from the PyPI sdist of lupa, fetched at test time, never committed) through
/// ltod and plain gcc: identical binaries cold and after edits, and Lua's own test files
/// give the same result with both.
extension EndToEnd {
    @Suite struct LuaTests {
        /// Lua's sources in a directory of `scratch`, compiled.
        func prepare(_ scratch: TemporaryDirectory) throws -> LinkCheck {
            let dir = try scratch.sub("lua")
            try LuaFixture.copySources(to: dir)
            let sources = try LuaFixture.list("files.txt")
            var check = LinkCheck(directory: dir, objects: sources.map { String($0.dropLast(2)) + ".o" })
            check.compileFlags = ["-O2"] + (try LuaFixture.list("cflags.txt"))
            check.libraries = try LuaFixture.list("libs.txt")
            check.output = "lua"
            try check.compile(sources)
            return check
        }

        func edit(_ check: LinkCheck, file: String, replacing old: String, with new: String) throws {
            let path = check.directory + "/" + file
            let text = try String(contentsOfFile: path, encoding: .utf8)
            try #require(text.contains(old), "\(file) no longer contains \(old)")
            try text.replacingOccurrences(of: old, with: new).write(toFile: path, atomically: false, encoding: .utf8)
            try check.compile([file])
        }

        /// Runs each of Lua's test files that passes with a plain build, with both binaries.
        func runTestSuite(_ check: LinkCheck) throws {
            let testes = try Self.fixtureTestes(into: check.directory)
            for file in try LuaFixture.list("testes-pass.txt") {
                let plain = try Shell.run(["../lua.plain", "-e", "_U=true", file], cwd: testes)
                let ltod = try Shell.run(["../lua", "-e", "_U=true", file], cwd: testes)
                #expect(plain.status == 0, "\(file) fails with plain gcc too: \(plain.stderr.suffix(300))")
                #expect(ltod.status == plain.status, "\(file): exit \(ltod.status) through ltod, \(plain.status) plain\n\(ltod.stderr.suffix(300))")
            }
        }

        static func fixtureTestes(into dir: String) throws -> String {
            let testes = dir + "/testes"
            if !FileManager.default.fileExists(atPath: testes) { try FileManager.default.copyItem(atPath: LuaFixture.directory + "/testes", toPath: testes) }
            return testes
        }

        @Test func luaColdEditsAndTestSuite() throws {
            let scratch = try TemporaryDirectory("lua")
            let daemon = try Daemon(in: scratch)
            let check = try prepare(scratch)

            let cold = try check.compareLinks(daemon)
            #expect(cold.total >= 30 && cold.rebuilt == cold.total, "cold: \(cold.rebuilt) of \(cold.total) built")
            try runTestSuite(check)

            let noop = try check.compareLinks(daemon)
            #expect(noop.reused == noop.total, "no-op relink reused \(noop.reused) of \(noop.total)")

            // A body-only edit: one string literal.
            try edit(check, file: "lauxlib.c", replacing: "\"bad argument #%d to '%s' (%s)\"", with: "\"bad argument #%d to '%s' [%s]\"")
            let body = try check.compareLinks(daemon)
            #expect(body.rebuilt >= 1 && body.rebuilt <= 2, "string edit rebuilt \(body.rebuilt) of \(body.total)")
            let usage = try Shell.run(["./lua", "-e", "string.rep()"], cwd: check.directory)
            #expect(usage.stderr.contains("[string expected, got no value]"), "\(usage.stderr)")

            // Reverting it (Lua's errors.lua checks that very message): every partition reused.
            try edit(check, file: "lauxlib.c", replacing: "\"bad argument #%d to '%s' [%s]\"", with: "\"bad argument #%d to '%s' (%s)\"")
            let revert = try check.compareLinks(daemon)
            #expect(revert.rebuilt == 0, "reverting rebuilt \(revert.rebuilt) of \(revert.total)")

            // An edit that changes a function's size.
            try edit(check, file: "lstrlib.c", replacing: "static int str_len (lua_State *L) {\n  size_t l;\n",
                     with: "static int str_len (lua_State *L) {\n  size_t l;\n  if (lua_gettop(L) > 8) lua_settop(L, 8);\n")
            let size = try check.compareLinks(daemon)
            #expect(size.rebuilt >= 1 && size.rebuilt < size.total, "size edit rebuilt \(size.rebuilt) of \(size.total)")
            try runTestSuite(check)
        }
    }
}
