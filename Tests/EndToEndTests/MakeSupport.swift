// End-to-end support for the jobserver and interrupt suites: a make 4.4 stand-in with a
// FIFO jobserver, counting the lto1 processes of links, and looking at process trees.
import Foundation
import LTOSystem
import LTOTestSupport
import Synchronization
import Testing

/// An `lto1` that counts how many run at once (WPA and LTRANS alike), in a directory to put
/// before GCC's own with `-B`, for plain and ltod links alike.
struct CountedLTO1 {
    let counter: ConcurrencyCounter
    /// The `-B` option that makes the driver run the counted lto1.
    var option: String { "-B" + counter.directory.path + "/" }

    init() throws {
        counter = try ConcurrencyCounter()
        let real = try Shell.check(["gcc", "-print-prog-name=lto1"], cwd: "/").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try counter.wrapper(named: "lto1", running: real)
    }
}

/// make 4.4 as a jobserver client sees it, for `-jN`: a FIFO holding N-1 tokens named in
/// MAKEFLAGS (`--jobserver-auth=fifo:PATH`), and jobs started on a token each beyond the
/// first, which runs on make's own implicit one. Debian 12 has make 4.3, which has only the
/// pipe form, so this small stand-in is the test's make.
final class FifoMake: @unchecked Sendable {
    // @unchecked: its state is the FIFO; the threads it starts only read and write tokens there.
    let jobs: Int
    let directory: TemporaryDirectory
    let fifo: String
    private let fd: Int32

    init(jobs: Int) throws {
        self.jobs = jobs
        directory = try TemporaryDirectory("fifo-make")
        fifo = directory.file("jobserver")
        guard mkfifo(fifo, 0o600) == 0 else { throw TestFailure("mkfifo: \(errno)") }
        fd = open(fifo, O_RDWR | O_CLOEXEC)
        let tokens = [UInt8](repeating: UInt8(ascii: "+"), count: jobs - 1)
        _ = tokens.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }
    }

    deinit { close(fd) }

    /// MAKEFLAGS as make 4.4 sets it for its jobs.
    var makeflags: String { " -j\(jobs) --jobserver-auth=fifo:\(fifo)" }

    /// Runs every command (argv, directory, environment) as make -jN would, and waits for all;
    /// their exit statuses, in order.
    func run(_ commands: [(argv: [String], directory: String, environment: [String: String])]) throws -> [Int32] {
        let statuses = Mutex([Int32](repeating: -1, count: commands.count))
        let group = DispatchGroup()
        let implicitFree = Mutex(true)
        for (i, c) in commands.enumerated() {
            let token = implicitFree.withLock { free -> Bool in
                defer { free = false }
                return !free
            } ? try takeToken() : nil
            group.enter()
            Thread.detachNewThread { [self] in
                let r = try? Shell.run(c.argv, cwd: c.directory, env: c.environment.merging(["MAKEFLAGS": makeflags]) { $1 })
                statuses.withLock { $0[i] = r?.status ?? -1 }
                if let token { giveBack(token) } else { implicitFree.withLock { $0 = true } }
                group.leave()
            }
        }
        group.wait()
        return statuses.withLock { $0 }
    }

    /// Waits for a token, as make does before starting a job beyond the first.
    func takeToken() throws -> UInt8 {
        var byte: UInt8 = 0
        while read(fd, &byte, 1) != 1 {
            guard errno == EINTR else { throw TestFailure("reading the jobserver: \(errno)") }
        }
        return byte
    }

    func giveBack(_ token: UInt8) {
        var byte = token
        _ = write(fd, &byte, 1)
    }

    /// The tokens in the FIFO now (taken out and put back).
    func tokensAvailable() -> Int {
        let reader = open(fifo, O_RDONLY | O_NONBLOCK)
        defer { close(reader) }
        var taken: [UInt8] = []
        var byte: UInt8 = 0
        while read(reader, &byte, 1) == 1 { taken.append(byte) }
        for t in taken { giveBack(t) }
        return taken.count
    }
}

/// Processes seen in /proc.
enum ProcessTree {
    /// The live processes below `root` (children, grandchildren, ...), with their command lines.
    static func descendants(of root: Int32) -> [(pid: Int32, command: [String])] {
        var parent: [Int32: Int32] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, fields[0] != "Z", let ppid = Int32(fields[1]) else { continue }
            parent[pid] = ppid
        }
        return parent.keys.filter { pid in
            var p = parent[pid]
            while let q = p, q > 1 {
                if q == root { return true }
                p = parent[q]
            }
            return false
        }.map { ($0, commandLine($0)) }
    }

    static func commandLine(_ pid: Int32) -> [String] {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return [] }
        return data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The LTRANS compilers (lto1 -fltrans) running below `root`.
    static func ltransCompilers(below root: Int32) -> [Int32] {
        descendants(of: root).filter { p in
            baseName(p.command.first ?? "") == "lto1" && p.command.contains("-fltrans")
        }.map(\.pid)
    }

    /// The compilers (lto1) running below `root`.
    static func compilers(below root: Int32) -> [Int32] {
        descendants(of: root).filter { baseName($0.command.first ?? "") == "lto1" }.map(\.pid)
    }
}
