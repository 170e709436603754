// LTOTestSupport: the programs tests build with the real gcc: Lua 5.4 (fetched at test time
// from the PyPI sdist of lupa, never committed), small C files, and WPA partitions.
import Foundation
import Testing

/// Lua 5.4's sources, prepared by Tests/Fixtures/fetch-lua.sh (in `$LTOD_LUA_DIR`, else
/// /tmp/ltod-fixtures/lua54): `src/`, `files.txt` (the 33 files of the interpreter),
/// `cflags.txt`, `libs.txt`, `testes/` and `testes-pass.txt`.
public enum LuaFixture {
    public static let directory = ProcessInfo.processInfo.environment["LTOD_LUA_DIR"] ?? "/tmp/ltod-fixtures/lua54"

    /// Fetches Lua with the project's script when the fixture is not there yet.
    public static func prepare() throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().path + "/Fixtures/fetch-lua.sh"
        try Shell.check(["bash", script, directory], cwd: "/")
    }

    /// The words of one of the fixture's lists (`files.txt`, `cflags.txt`, `libs.txt`, ...).
    public static func list(_ name: String) throws -> [String] {
        try String(contentsOfFile: directory + "/" + name, encoding: .utf8).split(whereSeparator: \.isWhitespace).map(String.init)
    }

    /// Copies the sources into `dir`.
    public static func copySources(to dir: String) throws {
        try prepare()
        for file in try FileManager.default.contentsOfDirectory(atPath: directory + "/src") {
            try FileManager.default.copyItem(atPath: directory + "/src/" + file, toPath: dir + "/" + file)
        }
    }
}

/// Compiles C (or C++ with `g++`) sources to LTO objects in a directory with the real compiler.
public struct LTOCompiler: Sendable {
    public let directory: String
    public var driver = "gcc"
    public var flags = ["-O2"]

    public init(directory: String) { self.directory = directory }

    /// Writes `source` to `name`.c and compiles it with `-flto -c` and the flags; the object's
    /// path. The source is named relative to the directory, as make names it: GCC then
    /// records the directory beside the name (and WPA its own directory in partitions).
    @discardableResult
    public func compile(_ name: String, _ source: String, extra: [String] = [], output: String? = nil) throws -> String {
        let file = name + (driver.hasSuffix("++") ? ".cc" : ".c")
        try source.write(toFile: directory + "/" + file, atomically: false, encoding: .utf8)
        let object = output ?? name + ".o"
        try Shell.check([driver, "-flto", "-c"] + flags + extra + [file, "-o", object], cwd: directory)
        return directory + "/" + object
    }
}

/// The partitions (`app.ltransN.o`) and LTRANS objects (`app.ltransN.ltrans.o`) a
/// `-flto-partition=1to1 -save-temps` link leaves in its directory.
public struct SavedPartitions: Sendable {
    public struct Partition: Sendable {
        public let path: String
        public let bytes: [UInt8]
        public let ltransOutput: [UInt8]
    }

    public let partitions: [Partition]

    /// Links `objects` into `app` in `directory`, keeping the temporaries.
    public init(linking objects: [String], in directory: String, driver: String = "gcc", flags: [String] = ["-O2"],
                libraries: [String] = []) throws {
        // WPA rewrites an existing app.ltransN.o in place without truncating it: a file from an
        // earlier link whose random ID printed one digit longer would keep a stale tail.
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) where name.hasPrefix("app.") {
            try FileManager.default.removeItem(atPath: directory + "/" + name)
        }
        try Shell.check([driver] + flags + ["-flto", "-flto-partition=1to1", "-save-temps", "-o", "app"] + objects + libraries, cwd: directory)
        var found: [Partition] = []
        while case let path = directory + "/app.ltrans\(found.count).o", FileManager.default.fileExists(atPath: path) {
            found.append(Partition(path: path, bytes: try readBytes(path),
                                   ltransOutput: try readBytes(directory + "/app.ltrans\(found.count).ltrans.o")))
        }
        partitions = found
    }
}

/// A three-file C program (`main` calls `afun`, `helper` and `third`), small enough to
/// compile in a moment, and an archive of two of its objects.
public enum ThreeFileProgram {
    public static let main = """
        #include <stdio.h>
        extern int helper(int);
        extern int third(int);
        int __attribute__((noinline)) afun(int x) { return x * 3 + 1; }
        int main(int argc, char **argv) { printf("%d\\n", third(argc) + helper(argc) + afun(argc)); return 0; }
        """
    public static let helper = "int __attribute__((noinline)) helper(int x) { int s = 0; for (int i = 0; i < x; i++) s += i * x; return s; }\n"
    public static func third(_ constant: String) -> String { "int __attribute__((noinline)) third(int z) { return z ^ \(constant); }\n" }

    /// The archive member name longer than 15 characters (GNU ar's long-name table).
    public static let longMemberName = "a_very_long_member_name_helper.o"

    /// Compiles the program in `dir` and puts helper (under the long name) and third in libx.a.
    public static func makeArchive(in dir: TemporaryDirectory) throws {
        try dir.compile("main", main)
        try dir.compile("helper", helper, output: longMemberName)
        try dir.compile("third", third("0x55"))
        try dir.run("ar", ["rcs", "libx.a", longMemberName, "third.o"])
    }
}
