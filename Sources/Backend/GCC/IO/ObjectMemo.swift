// LTOGCCBackend: what the daemon remembers about each LTO input object.
import LTOGCC
import LTOObject
import LTOStatistics
import LTOSystem
import Synchronization

/// The inputs of links, keyed by name and file stamp (device, inode, size, mtime): an
/// unchanged object is never read again.
final class ObjectMemo: Sendable {
    private let stats: any StatisticsRecorder
    private let known = Mutex<[String: InputObject]>([:])

    init(stats: any StatisticsRecorder) { self.stats = stats }

    /// The inputs named in lto-wrapper's arguments, read only where they changed since last seen
    /// (an input is unchanged while its file has the identity it was read under).
    func inputs(wrapperArguments: [String], directory: String) -> [InputObject] {
        var parsed = 0.0, reused = 0.0
        var out: [InputObject] = []
        for input in Self.inputNames(wrapperArguments, directory: directory) {
            if let memo = known.withLock({ $0[input.name] }), let seen = memo.summary?.identity, FileIdentity(path: input.file) == seen {
                reused += 1
                out.append(memo)
                continue
            }
            parsed += 1
            let object = InputObject(name: input.name, summary: Self.read(input.file, member: input.member, name: input.name))
            known.withLock { $0[input.name] = object }
            out.append(object)
        }
        stats.add([.inputsParsed: parsed, .inputsReused: reused])
        return out
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
