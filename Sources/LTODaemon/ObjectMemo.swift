import Foundation
import LTOGCC
import Synchronization

/// What the daemon remembers about each LTO input object, keyed by its file stamp
/// (device, inode, size, mtime): an unchanged object is never read again.
final class ObjectMemo: Sendable {
    private let stats: Statistics
    private let known = Mutex<[String: FileStamp]>([:])

    init(stats: Statistics) { self.stats = stats }

    /// Reads the inputs named in lto-wrapper's arguments that changed since last seen.
    func scan(wrapperArguments: [String], directory: String) {
        var parsed = 0.0, reused = 0.0
        for path in Self.inputPaths(wrapperArguments, directory: directory) {
            guard let stamp = FileStamp(path: path) else { continue }
            if known.withLock({ $0[path] }) == stamp {
                reused += 1
            } else {
                parsed += 1
                known.withLock { $0[path] = stamp }
            }
        }
        stats.add(["inputs.parsed": parsed, "inputs.reused": reused])
    }

    /// The object files lto-wrapper was given (`a.o`, or `libx.a@0x1f0` for archive members).
    static func inputPaths(_ args: [String], directory: String) -> [String] {
        let absolute = { (p: String) in p.hasPrefix("/") ? p : directory + "/" + p }
        return ResponseFile.expand(args) { readText(absolute($0)) }
            .filter { !$0.hasPrefix("-") }
            .map { arg in absolute(arg.split(separator: "@").first.map(String.init) ?? arg) }
    }
}
