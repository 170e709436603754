// fuzz-wire: the frame decoder and request parser under arbitrary bytes.
//
// Built with `swift build -sanitize=fuzzer -Xswiftc -DFUZZING --product fuzz-wire`, libFuzzer
// calls `LLVMFuzzerTestOneInput` (see Tests/fuzz). Built normally, the same target is a
// replay tool: `fuzz-wire FILE...` runs each file through the same code, so a crash that
// libFuzzer saved can be reproduced in a debugger without the sanitizer build.
#if canImport(Glibc)
import Glibc
#endif
import LTOSystem
import LTOWire

/// Feeds one input to every decoder that reads bytes from a client.
func exercise(_ bytes: [UInt8]) {
    _ = try? Request.decode(bytes)
    _ = try? Reply.decode(bytes)
    readFrames(bytes)
}

/// Writes the input to one end of a socket pair and reads frames from the other until the
/// decoder refuses or the stream ends, decoding each frame as a request: what the daemon
/// does with a connection.
func readFrames(_ bytes: [UInt8]) {
    var fds: [Int32] = [0, 0]
    guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else { fatalError("socketpair: \(errnoText())") }
    var buffer: Int32 = 1 << 20
    setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &buffer, socklen_t(MemoryLayout<Int32>.size))
    let input = Array(bytes.prefix(200_000))
    _ = input.withUnsafeBytes { write(fds[1], $0.baseAddress, $0.count) }
    close(fds[1])
    let reader = FrameSocket(adopting: fds[0])
    while let frame = try? reader.receive() {
        _ = try? Request.decode(frame)
    }
}

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    exercise(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}
#else
@main
struct Replay {
    static func main() {
        for path in CommandLine.arguments.dropFirst() {
            guard let bytes = readWholeFile(path) else {
                print("fuzz-wire: cannot read \(path)")
                exit(1)
            }
            exercise(bytes)
        }
        print("fuzz-wire: \(CommandLine.arguments.count - 1) inputs replayed")
    }
}
#endif
