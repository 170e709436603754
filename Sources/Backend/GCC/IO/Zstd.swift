// LTOGCCBackend: inflating the zstd frames GCC 12 writes for compressed LTO sections
// (function bodies and initializers), for the stream reader.
import CZstd

/// Inflates zstd frames whose header records their size, as GCC's compressor writes them,
/// with one decompression context reused for every frame (one inflater per partition).
public final class ZstdInflater {
    private let context: OpaquePointer?

    public init() { context = ZSTD_createDCtx() }

    deinit { ZSTD_freeDCtx(context) }

    /// The frame's contents; nil when it is not one whole zstd frame of a known size below 2 GiB.
    public func inflate(_ data: UnsafeRawBufferPointer) -> [UInt8]? {
        guard let context, let base = data.baseAddress else { return nil }
        let size = ZSTD_getFrameContentSize(base, data.count)
        guard size != ZSTD_CONTENTSIZE_UNKNOWN, size != ZSTD_CONTENTSIZE_ERROR, size < 1 << 31 else { return nil }
        var failed = false
        let out = [UInt8](unsafeUninitializedCapacity: Int(size)) { buffer, count in
            let written = ZSTD_decompressDCtx(context, buffer.baseAddress, Int(size), base, data.count)
            failed = ZSTD_isError(written) != 0 || written != Int(size)
            count = failed ? 0 : Int(size)
        }
        return failed ? nil : out
    }
}
