// LTOGCCBackend: what the daemon remembers about each LTO input object, for as long as a
// target it keeps needs it.
import LTOGCC
import LTOObject
import LTOStatistics
import LTOSystem
import Synchronization

/// The inputs of the links the daemon keeps (the last link of each target kept), keyed by
/// name and file stamp (device, inode, size, mtime): an unchanged object is never read again.
/// An input is kept while a kept link holds it, so this memory is bounded by the targets kept.
final class ObjectMemo: Sendable {
    private struct Entry {
        var object: InputObject
        /// The kept links that hold it.
        var holders: Int
    }

    private let stats: any StatisticsRecorder
    private let known = Mutex<[String: Entry]>([:])

    init(stats: any StatisticsRecorder) { self.stats = stats }

    /// How many inputs are kept.
    var count: Int { known.withLock { $0.count } }

    /// The inputs named in lto-wrapper's arguments, read only where they changed since last seen
    /// (an input is unchanged while its file has the identity it was read under).
    func inputs(wrapperArguments: [String], directory: String) -> [InputObject] {
        var parsed = 0.0, reused = 0.0
        var out: [InputObject] = []
        for input in Self.inputNames(wrapperArguments, directory: directory) {
            if let memo = known.withLock({ $0[input.name]?.object }), let seen = memo.summary?.identity, FileIdentity(path: input.file) == seen {
                reused += 1
                out.append(memo)
                continue
            }
            parsed += 1
            out.append(InputObject(name: input.name, summary: Self.read(input.file, member: input.member, name: input.name)))
        }
        stats.add([.inputsParsed: parsed, .inputsReused: reused])
        return out
    }

    /// Keeps `objects` for a link the daemon now keeps (the newest reading of each wins).
    func retain(_ objects: [InputObject]) {
        known.withLock { known in
            for object in objects { known[object.name] = Entry(object: object, holders: (known[object.name]?.holders ?? 0) + 1) }
        }
    }

    /// A link that held `objects` is forgotten: inputs no kept link holds any more are dropped.
    func release(_ objects: [InputObject]) {
        known.withLock { known in
            for object in objects {
                guard let entry = known[object.name] else { continue }
                known[object.name] = entry.holders > 1 ? Entry(object: entry.object, holders: entry.holders - 1) : nil
            }
        }
    }

    /// Reads and summarizes an object file or archive member; nil when it is not one.
    private static func read(_ file: String, member: Int?, name: String) -> ObjectSummary? {
        if let member {
            guard let (bytes, identity) = try? readArchiveMember(archivePath: file, dataOffset: member) else { return nil }
            return try? ObjectSummary(bytes: bytes, path: name, member: ArchiveMemberReference(archivePath: file, dataOffset: member),
                                      identity: identity)
        }
        guard let (bytes, identity) = try? readFile(path: file) else { return nil }
        return try? ObjectSummary(bytes: bytes, path: file, identity: identity)
    }

    /// The objects lto-wrapper was given: `a.o`, or `libx.a@0x1f0` for an archive member.
    static func inputNames(_ args: [String], directory: String) -> [(name: String, file: String, member: Int?)] {
        ResponseFile.expand(args) { readFileText(absolutePath($0, relativeTo: directory)) }
            .filter { !$0.hasPrefix("-") }
            .map { arg in
                if let ref = ArchiveMemberReference(parsing: arg) {
                    let file = absolutePath(ref.archivePath, relativeTo: directory)
                    return (file + "@0x" + String(ref.dataOffset, radix: 16), file, ref.dataOffset)
                }
                return (absolutePath(arg, relativeTo: directory), absolutePath(arg, relativeTo: directory), nil)
            }
    }
}
