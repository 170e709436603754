// LTOTestSupport owns what the test targets share: temporary directories, running
// programs, a seeded random generator, and the fixtures (Lua's sources, LTO objects and
// partitions made with the real gcc).
import Foundation
import LTOSystem
import Testing

/// A fresh directory under the system's temporary directory, removed when released.
public final class TemporaryDirectory: @unchecked Sendable {
    // @unchecked: `path` is immutable; the directory itself is the test's to use.
    public let path: String

    public init(_ label: String = "test") throws {
        var template = Array((NSTemporaryDirectory() + "ltod-\(label)-XXXXXX").utf8CString)
        guard let created = mkdtemp(&template) else { throw TestFailure("mkdtemp failed: errno \(errno)") }
        path = String(cString: created)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// The path of `name` inside the directory.
    public func file(_ name: String) -> String { path + "/" + name }

    /// Creates (if needed) and returns the subdirectory `name`.
    public func sub(_ name: String) throws -> String {
        let p = file(name)
        try FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
        return p
    }

    /// Writes `text` to `name`, creating the directories on its path.
    public func write(_ name: String, _ text: String) throws {
        try FileManager.default.createDirectory(atPath: directoryName(file(name)), withIntermediateDirectories: true)
        try text.write(toFile: file(name), atomically: false, encoding: .utf8)
    }

    public func write(_ name: String, bytes: [UInt8]) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: file(name)))
    }

    public func bytes(_ name: String) throws -> [UInt8] {
        try readBytes(file(name))
    }
}

/// A test's own failure, with a message.
public struct TestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The bytes of a file.
public func readBytes(_ path: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
}

/// Whether two files have the same bytes (false if either cannot be read).
public func sameBytes(_ a: String, _ b: String) -> Bool {
    guard let x = FileManager.default.contents(atPath: a), let y = FileManager.default.contents(atPath: b) else { return false }
    return x == y
}

/// Whether anything (a file, a directory, a dangling symlink) is at `path`.
public func exists(_ path: String) -> Bool {
    var info = stat()
    return lstat(path, &info) == 0
}

extension TemporaryDirectory {
    /// Runs a program found on PATH with `arguments` in this directory; throws with its
    /// output when it fails. Returns its standard error.
    @discardableResult
    public func run(_ program: String, _ arguments: [String]) throws -> String {
        try Shell.check([program] + arguments, cwd: path).stderr
    }

    /// Writes `source` to `name`.c here and compiles it with `gcc -O2 -flto -c` plus `flags`;
    /// the object's path.
    @discardableResult
    public func compile(_ name: String, _ source: String, flags: [String] = [], output: String? = nil) throws -> String {
        try LTOCompiler(directory: path).compile(name, source, extra: flags, output: output)
    }
}
