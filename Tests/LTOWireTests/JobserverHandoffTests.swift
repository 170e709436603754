import Foundation
import Testing
@testable import LTOWire

@Suite struct JobserverHandoffTests {
    @Test func makeflagsNameTheJobserver() {
        #expect(MakeJobserver(makeflags: " -j4 --jobserver-auth=3,4") == .pipe(read: 3, write: 4))
        #expect(MakeJobserver(makeflags: "s -j --jobserver-fds=5,6") == .pipe(read: 5, write: 6))
        #expect(MakeJobserver(makeflags: " -j8 --jobserver-auth=fifo:/tmp/GMfifo123") == .fifo(path: "/tmp/GMfifo123"))
        // The last one wins, as make's manual asks of clients.
        #expect(MakeJobserver(makeflags: "--jobserver-auth=3,4 --jobserver-auth=fifo:/x") == .fifo(path: "/x"))
        #expect(MakeJobserver(makeflags: "--jobserver-auth=fifo:/x --jobserver-auth=7,8") == .pipe(read: 7, write: 8))
        for none in ["", " -j4", "--jobserver-auth=", "--jobserver-auth=3", "--jobserver-auth=a,b", "--jobserver-auth=fifo:",
                     "--jobserver-auth=-1,4"] {
            #expect(MakeJobserver(makeflags: none) == nil, "\(none)")
        }
        #expect(MakeJobserver(auth: MakeJobserver.fifo(path: "/p q").auth) == .fifo(path: "/p q"))
        #expect(MakeJobserver(auth: MakeJobserver.pipe(read: 3, write: 4).auth) == .pipe(read: 3, write: 4))
    }

    /// Descriptors are handed over only when they are the two ends of one pipe, as where make
    /// passed them; a FIFO is opened once for both ends.
    @Test func onlyAUsableJobserverIsHandedOver() throws {
        var one: [Int32] = [-1, -1], two: [Int32] = [-1, -1]
        #expect(pipe(&one) == 0 && pipe(&two) == 0)
        defer { for fd in one + two { close(fd) } }
        #expect(MakeJobserver.pipe(read: one[0], write: one[1]).descriptors().map { [$0.read, $0.write] } == one)
        #expect(MakeJobserver.pipe(read: one[0], write: two[1]).descriptors() == nil)
        #expect(MakeJobserver.pipe(read: 999, write: 998).descriptors() == nil)
        let dir = NSTemporaryDirectory() + "ltod-fifo-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(mkfifo(dir + "/fifo", 0o600) == 0)
        let fifo = try #require(MakeJobserver.fifo(path: dir + "/fifo").descriptors())
        #expect(fifo.read == fifo.write && fifo.opened)
        close(fifo.read)
        #expect(FileManager.default.createFile(atPath: dir + "/file", contents: nil))
        #expect(MakeJobserver.fifo(path: dir + "/file").descriptors() == nil)
        #expect(MakeJobserver.fifo(path: dir + "/missing").descriptors() == nil)
    }

    /// The session request's frame carries the jobserver's descriptors; the other end gets
    /// descriptors of its own for the same pipe.
    @Test func descriptorsTravelWithTheirFrame() throws {
        var fds: [Int32] = [0, 0], jobserver: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 && pipe(&jobserver) == 0)
        let (shim, daemon) = (FrameSocket(adopting: fds[0]), FrameSocket(adopting: fds[1]))
        try shim.send([1, 2, 3], passing: jobserver)
        try shim.send([4])
        let (payload, received) = try daemon.receiveWithDescriptors()
        #expect(payload == [1, 2, 3] && received.count == 2)
        var byte: UInt8 = 43
        #expect(write(received[1], &byte, 1) == 1)
        byte = 0
        #expect(read(jobserver[0], &byte, 1) == 1 && byte == 43)
        let next = try daemon.receiveWithDescriptors()
        #expect(next.payload == [4] && next.descriptors.isEmpty)
        for fd in received + jobserver { close(fd) }
        #expect(throws: WireError.self) { try shim.send([5], passing: [0, 1, 2]) }
    }
}
