/// Compresses sample bytes as the archive writer does (zstd level 3, independent frames of `frameSize`), so that an
/// export estimate measures the compression ratio and speed instead of assuming them.
public enum CompressionProbe {
    /// The writer's frames are a few MiB; the probe cuts its sample the same way.
    public static let frameSize = 4 << 20

    /// The compressed size of `sample` (items one after another, as in the archive's tar stream).
    public static func compressedSize(of sample: [[UInt8]]) throws -> Int64 {
        let compressor = ZstdFrameCompressor()
        var frame: [UInt8] = []
        frame.reserveCapacity(frameSize)
        var total: Int64 = 0
        for item in sample {
            var rest = item[...]
            while !rest.isEmpty {
                let take = min(rest.count, frameSize - frame.count)
                frame += rest.prefix(take)
                rest = rest.dropFirst(take)
                if frame.count == frameSize {
                    total += Int64(try compressor.compress(frame).count)
                    frame.removeAll(keepingCapacity: true)
                }
            }
        }
        if !frame.isEmpty { total += Int64(try compressor.compress(frame).count) }
        return total
    }
}
