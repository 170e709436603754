// LTOTestSupport: counting how many processes of a kind run at once, exactly (a counter
// updated under flock by a wrapper script around the real program), not by sampling.
import Foundation

/// Counts the processes started through its wrappers that run at the same time.
public final class ConcurrencyCounter: @unchecked Sendable {
    // @unchecked: the directory is only read and written through files under flock.
    public let directory: TemporaryDirectory

    public init() throws {
        directory = try TemporaryDirectory("count")
        try directory.write("now", "0\n")
        try directory.write("most", "0\n")
    }

    /// Writes an executable `name` that runs `program` with its arguments, counted. With
    /// `rendezvous` N, each run then waits (up to 10 s) until N runs are counted at once before
    /// it starts `program`, so a test sees the bound reached without relying on timing.
    @discardableResult
    public func wrapper(named name: String, running program: String, rendezvous: Int = 0) throws -> String {
        let d = directory.path
        let update = { (change: String) in
            "flock '\(d)/lock' sh -c 'n=$(( $(cat \"$0/now\") \(change) )); echo $n > \"$0/now\"; "
                + "[ $n -gt $(cat \"$0/most\") ] && echo $n > \"$0/most\"; exit 0' '\(d)'"
        }
        let script = """
            #!/bin/sh
            \(update("+ 1"))
            i=0
            while [ $(cat '\(d)/most') -lt \(rendezvous) ] && [ $i -lt 1000 ]; do sleep 0.01; i=$((i + 1)); done
            '\(program)' "$@"
            rc=$?
            \(update("- 1"))
            exit $rc

            """
        let path = directory.file(name)
        try script.write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, 0o755)
        return path
    }

    /// The most runs counted at once so far.
    public var most: Int { (try? String(contentsOfFile: directory.file("most"), encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? -1 }

    /// Runs counted now.
    public var now: Int { (try? String(contentsOfFile: directory.file("now"), encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? -1 }
}
