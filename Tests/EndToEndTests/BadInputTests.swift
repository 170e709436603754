import Foundation
import LTOConfig
import LTOSystem
import LTOTestSupport
import LTOWire
import Testing

extension EndToEnd {
    /// Mutated frames and mutated objects sent to a live daemon over its socket: every one is
    /// answered or refused, the daemon keeps serving, its memory stays bounded, and the next
    /// real link is still plain gcc's binary. Deterministic: a fixed seed and fixed counts.
    @Suite struct BadInputTests {
        static let frames = 3000
        static let objectBatches = 30
        static let objectsPerBatch = 20

        @Test func mutatedFramesAndObjectsLeaveTheDaemonUpWithBoundedMemory() throws {
            let scratch = try TemporaryDirectory("fuzzdaemon")
            let daemon = try Daemon(in: scratch)
            let pid = daemon.process.processIdentifier
            let check = try LinkCheck.generated(in: scratch, files: 4, seed: 61)
            try check.compareLinks(daemon)
            let rssBefore = Fault.memory(pid, "VmRSS")
            var rng = Seeded(0x5EED_F00D)

            let seeds = seedRequests(check)
            var answered = 0
            for i in 0..<Self.frames {
                let mutated = mutateFrame(seeds[i % seeds.count], &rng)
                answered += try exchange(daemon.socket, mutated, helloFirst: i % 3 != 0) ? 1 : 0
            }
            let inputs = try mutatedObjectSessions(check, daemon: daemon, &rng)
            #expect(try daemon.stat("inputs.parsed") >= Double(inputs), "the daemon read every mutated object")

            #expect(Fault.alive(pid))
            #expect(try daemon.ltoc("status").status == 0)
            let rssAfter = Fault.memory(pid, "VmRSS"), peak = Fault.memory(pid, "VmHWM")
            print("bad input: \(Self.frames) mutated frames (\(answered) answered), \(inputs) mutated objects in \(Self.objectBatches) sessions; "
                  + "ltod RSS \(rssBefore / 1024) MB before, \(rssAfter / 1024) MB after, peak \(peak / 1024) MB")
            #expect(rssAfter - rssBefore < 64 << 10, "RSS grew from \(rssBefore) kB to \(rssAfter) kB")
            #expect(peak < 256 << 10, "peak RSS \(peak) kB")
            try check.compareLinks(daemon)
            try check.runBoth()
        }

        /// One encoded request of every kind, the raw material of the mutations.
        func seedRequests(_ check: LinkCheck) -> [[UInt8]] {
            let inv = Invocation(argv: ["lto-wrapper"] + check.objects.map { check.directory + "/" + $0 }, cwd: check.directory,
                                 environment: ["COLLECT_GCC=gcc", "COLLECT_GCC_OPTIONS='-o' 'fuzz'"])
            let driver = Invocation(argv: ["gcc", "-xlto", "-c", "-fltrans", "-o", "/nonexistent/out.o", "/nonexistent/in.o"],
                                    cwd: "/", environment: ["LTOD_DRIVER=gcc"])
            let requests: [Request] = [
                .hello(version: Protocol.version), .command(name: "stats", arguments: ["--json"]),
                .command(name: "explain", arguments: []), .openSession(inv), .closeSession(id: "fuzz", exitStatus: 0, printed: [], messages: nil),
                .compile(session: "fuzz", driver),
            ]
            return requests.map { $0.encoded() }
        }

        /// A frame (4-byte length, payload) made from `payload` with bytes changed, cut or
        /// grown, and sometimes a length header that lies.
        func mutateFrame(_ payload: [UInt8], _ rng: inout Seeded) -> [UInt8] {
            var bytes = payload
            for _ in 0..<Int.random(in: 1...4, using: &rng) where !bytes.isEmpty {
                let at = Int.random(in: 0..<bytes.count, using: &rng)
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: bytes[at] = UInt8.random(in: 0...255, using: &rng)
                case 1: bytes.removeLast(Int.random(in: 0...(bytes.count - at), using: &rng))
                case 2: bytes.replaceSubrange(at..<min(at + 4, bytes.count), with: [0xff, 0xff, 0xff, 0x7f])
                default: bytes.insert(contentsOf: [UInt8](repeating: UInt8.random(in: 0...255, using: &rng), count: Int.random(in: 1...64, using: &rng)), at: at)
                }
            }
            var length = UInt32(bytes.count)
            if Int.random(in: 0..<8, using: &rng) == 0 { length = UInt32.random(in: 0...UInt32.max, using: &rng) }
            return [UInt8(length >> 24), UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff)] + bytes
        }

        /// Sends one mutated frame (after a proper hello, or as the first frame), closes the
        /// sending side and reads until the daemon closes; true if it answered at all.
        func exchange(_ socket: String, _ frame: [UInt8], helloFirst: Bool) throws -> Bool {
            let client = try RawClient(socket)
            if helloFirst {
                let hello = Request.hello(version: Protocol.version).encoded()
                client.write([0, 0, 0, UInt8(hello.count)] + hello)
            }
            client.write(frame)
            shutdown(client.fd, Int32(SHUT_WR))
            return !client.readToEnd().isEmpty
        }

        /// Opens link sessions naming mutated copies of real LTO objects (damaged headers,
        /// section offsets past the end, huge sizes and counts, overlapping sections, damaged
        /// `.gnu.lto_*` contents, truncations), so that the daemon parses them. Returns how many.
        func mutatedObjectSessions(_ check: LinkCheck, daemon: Daemon, _ rng: inout Seeded) throws -> Int {
            let originals = try check.objects.map { [UInt8](try Data(contentsOf: URL(fileURLWithPath: check.directory + "/" + $0))) }
            let dir = try TemporaryDirectory("fuzzobjects")
            let socket = try FrameSocket.connect(to: daemon.socket)
            guard case .hello = try socket.request(.hello(version: Protocol.version)) else { throw TestFailure("hello") }
            var count = 0
            for _ in 0..<Self.objectBatches {
                var paths: [String] = []
                for n in 0..<Self.objectsPerBatch {
                    let path = "\(dir.path)/m\(n).o"
                    try Data(ELFMutation.apply(originals[n % originals.count], &rng)).write(to: URL(fileURLWithPath: path))
                    paths.append(path)
                    count += 1
                }
                let reply = try socket.request(.openSession(Invocation(argv: ["lto-wrapper"] + paths, cwd: dir.path,
                                                                       environment: ["COLLECT_GCC=gcc", "COLLECT_GCC_OPTIONS='-o' 'm'"])))
                guard case .session(let id, _) = reply else { continue }
                _ = try socket.request(.closeSession(id: id, exitStatus: 1, printed: [], messages: nil))
            }
            return count
        }
    }
}

/// Structured damage to an ELF64 object: the kinds of corruption a reader must survive.
enum ELFMutation {
    static func apply(_ original: [UInt8], _ rng: inout Seeded) -> [UInt8] {
        var b = original
        let shoff = Int(read(b, 0x28, 8)), shnum = Int(read(b, 0x3c, 2))
        let section = { (r: inout Seeded) in shoff + 64 * Int.random(in: 0..<max(shnum, 1), using: &r) }
        switch Int.random(in: 0..<8, using: &rng) {
        case 0: for _ in 0..<8 { b[Int.random(in: 0..<64, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
        case 1: b.removeLast(Int.random(in: 1..<b.count, using: &rng))
        case 2: write(&b, section(&rng) + 24, 8, UInt64(b.count) + UInt64.random(in: 0...0xffff_ffff, using: &rng))
        case 3: write(&b, section(&rng) + 32, 8, UInt64.random(in: 1 << 32...UInt64.max, using: &rng))
        case 4: write(&b, 0x3c, 2, UInt64.random(in: 0x100...0xffff, using: &rng))
        case 5:
            let (s, t) = (section(&rng), section(&rng))
            write(&b, s + 24, 8, read(b, t + 24, 8))
            write(&b, s + 32, 8, read(b, t + 32, 8) + UInt64.random(in: 0...64, using: &rng))
        case 6: for _ in 0..<4 { b[Int.random(in: shoff..<b.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
        default:
            let s = section(&rng)
            let offset = Int(read(b, s + 24, 8)), size = Int(read(b, s + 32, 8))
            guard offset + size <= b.count, size > 0 else { break }
            for _ in 0..<8 { b[offset + Int.random(in: 0..<size, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
        }
        return b
    }

    static func read(_ b: [UInt8], _ at: Int, _ n: Int) -> UInt64 {
        guard at >= 0, at + n <= b.count else { return 0 }
        return b[at..<at + n].reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    static func write(_ b: inout [UInt8], _ at: Int, _ n: Int, _ value: UInt64) {
        guard at >= 0, at + min(n, 8) <= b.count else { return }
        for i in 0..<min(n, 8) { b[at + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
    }
}

/// xorshift64*: a small deterministic generator, so that every run tries the same inputs.
struct Seeded: RandomNumberGenerator {
    private var state: UInt64
    init(_ seed: UInt64) { state = seed | 1 }
    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
}
