#if canImport(Glibc)
import Glibc
#endif

/// The bytes of a file, or nil if it cannot be read.
func readWholeFile(_ path: String) -> [UInt8]? {
    guard let f = fopen(path, "rb") else { return nil }
    defer { fclose(f) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&chunk, 1, chunk.count, f)
        if n <= 0 { return bytes }
        bytes += chunk[0..<n]
    }
}
