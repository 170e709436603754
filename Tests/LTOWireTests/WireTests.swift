import Glibc
import LTOSystem
import Testing
@testable import LTOWire

@Suite struct MessageCodecTests {
    static let invocation = Invocation(argv: ["gcc", "-c", "a.c"], cwd: "/tmp", environment: ["A=1", "PATH=/bin"])

    @Test(arguments: [
        Request.hello(version: Protocol.version),
        .command(name: "stats", arguments: ["--json"]),
        .openSession(invocation),
        .closeSession(id: "abc", exitStatus: 3, printed: Array("/tmp/cc1.ltrans0.ltrans.o\n".utf8), messages: nil),
        .closeSession(id: "abc", exitStatus: 0, printed: [], messages: Array("lto-wrapper: warning: x\n".utf8)),
        .compile(session: "s1", invocation),
    ])
    func requestsRoundTrip(_ request: Request) throws {
        #expect(try Request.decode(request.encoded()) == request)
    }

    @Test(arguments: [
        Reply.hello(version: 1, pid: 42),
        .session(id: "x", partitionOption: "-flto-partition=1to1"),
        .output(exitStatus: 1, stdout: [0, 255, 10], stderr: Array("warning".utf8)),
        .failure("no"),
        .passThrough(reason: "offloading"),
    ])
    func repliesRoundTrip(_ reply: Reply) throws {
        #expect(try Reply.decode(reply.encoded()) == reply)
    }

    @Test func unknownMessageTypeIsRefused() {
        #expect(throws: WireError.unknownMessage(99)) { try Request.decode([99]) }
    }

    @Test func everyTruncationOfEveryRequestIsRefused() {
        for request in [Request.compile(session: "s", Self.invocation), .command(name: "gc", arguments: ["--max-size", "1G"])] {
            let bytes = request.encoded()
            for cut in 0..<bytes.count {
                #expect(throws: WireError.self) { try Request.decode(Array(bytes[..<cut])) }
            }
        }
    }

    @Test func trailingBytesAreRefused() {
        #expect(throws: WireError.malformed("trailing bytes after message")) {
            try Request.decode(Request.hello(version: 1).encoded() + [0])
        }
    }

    @Test func badMagicIsRefused() {
        var bytes = Request.hello(version: 1).encoded()
        bytes[1] = UInt8(ascii: "X")
        #expect(throws: WireError.malformed("bad magic in hello")) { try Request.decode(bytes) }
    }

    @Test func hugeListCountDoesNotAllocate() {
        var w = WireWriter()
        w.u8(2)  // command
        w.string("stats")
        w.u32(UInt32.max)  // claims four billion arguments
        #expect(throws: WireError.self) { try Request.decode(w.bytes) }
    }

    @Test func relativeWorkingDirectoryIsRefused() {
        let bad = Request.compile(session: "s", Invocation(argv: ["gcc"], cwd: "tmp", environment: []))
        #expect(throws: WireError.invalidField("working directory 'tmp' is not absolute")) { try Request.decode(bad.encoded()) }
    }

    @Test func emptyArgvAndBadEnvironmentAreRefused() {
        let noArgv = Request.openSession(Invocation(argv: [], cwd: "/", environment: []))
        #expect(throws: WireError.invalidField("argv is empty")) { try Request.decode(noArgv.encoded()) }
        let badEnv = Request.openSession(Invocation(argv: ["x"], cwd: "/", environment: ["NOEQUALS"]))
        #expect(throws: WireError.self) { try Request.decode(badEnv.encoded()) }
    }

    @Test func invalidUTF8AndNULAreRefused() {
        var w = WireWriter()
        w.u8(2)
        w.blob([0xff, 0xfe])
        w.strings([])
        #expect(throws: WireError.malformed("string is not valid UTF-8")) { try Request.decode(w.bytes) }
        var n = WireWriter()
        n.u8(2)
        n.blob([0x61, 0, 0x62])
        n.strings([])
        #expect(throws: WireError.malformed("string contains a NUL byte")) { try Request.decode(n.bytes) }
    }

    @Test func oversizedSessionIDIsRefused() {
        let r = Request.closeSession(id: String(repeating: "x", count: 65), exitStatus: 0, printed: [], messages: nil)
        #expect(throws: WireError.self) { try Request.decode(r.encoded()) }
    }

    @Test func garbageNeverCrashes() {
        var state: UInt64 = 0x9E3779B97F4A7C15
        for length in 0..<400 {
            var bytes: [UInt8] = []
            for _ in 0..<length {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                bytes.append(UInt8(truncatingIfNeeded: state >> 33))
            }
            _ = try? Request.decode(bytes)
            _ = try? Reply.decode(bytes)
        }
    }
}

@Suite struct FramingTests {
    /// A connected socket pair: (our end, the peer's raw fd).
    func pair() -> (FrameSocket, Int32) {
        var fds: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        return (FrameSocket(adopting: fds[0]), fds[1])
    }

    func rawWrite(_ fd: Int32, _ bytes: [UInt8]) {
        #expect(bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == bytes.count)
    }

    @Test func frameRoundTrip() throws {
        let (a, b) = pair()
        let other = FrameSocket(adopting: b)
        try a.send([1, 2, 3])
        #expect(try other.receive() == [1, 2, 3])
    }

    @Test func oversizedFrameIsRefusedBeforeReading() {
        let (a, b) = pair()
        rawWrite(b, [0xff, 0xff, 0xff, 0xff])
        #expect(throws: WireError.frameTooLarge(UInt32.max, limit: Protocol.maxFrameBytes)) { try a.receive() }
        close(b)
    }

    @Test func truncatedFrameIsReported() {
        let (a, b) = pair()
        rawWrite(b, [0, 0, 0, 10, 1, 2, 3])
        close(b)
        #expect(throws: WireError.truncated(expected: 10, got: 3)) { try a.receive() }
    }

    @Test func truncatedHeaderIsReported() {
        let (a, b) = pair()
        rawWrite(b, [0, 0])
        close(b)
        #expect(throws: WireError.truncated(expected: 4, got: 2)) { try a.receive() }
    }

    @Test func cleanCloseIsClosed() {
        let (a, b) = pair()
        close(b)
        #expect(throws: WireError.closed) { try a.receive() }
    }

    @Test func sendingToAClosedPeerDoesNotKillTheProcess() {
        let (a, b) = pair()
        close(b)
        #expect(throws: WireError.self) { try a.send(Array(repeating: 7, count: 1 << 20)) }
    }
}
