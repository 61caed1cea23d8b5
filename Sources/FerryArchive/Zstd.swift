internal import CZstd

/// zstd compression of one whole frame at a time, with the content checksum and size in the frame
/// header, so that every frame can be decoded and checked on its own.
final class ZstdFrameCompressor {
    private let context: OpaquePointer
    static let level: Int32 = 3

    init() {
        guard let context = ZSTD_createCCtx() else { fatalError("ZSTD_createCCtx: out of memory") }
        self.context = context
        ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, Self.level)
        ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1)
        ZSTD_CCtx_setParameter(context, ZSTD_c_contentSizeFlag, 1)
    }

    deinit { ZSTD_freeCCtx(context) }

    func compress(_ input: [UInt8]) throws -> [UInt8] {
        try [UInt8](unsafeUninitializedCapacity: Self.bound(input.count)) { output, count in
            count = try input.withUnsafeBytes { try compress($0, into: UnsafeMutableRawBufferPointer(output)) }
        }
    }

    /// The most bytes a frame of `size` input bytes can take.
    static func bound(_ size: Int) -> Int { ZSTD_compressBound(size) }

    /// Compresses `input` as one frame into the start of `output` (at least `bound(input.count)` bytes); returns
    /// the frame's size.
    func compress(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws -> Int {
        let written = ZSTD_compress2(context, output.baseAddress, output.count, input.baseAddress, input.count)
        if ZSTD_isError(written) != 0 {
            throw ArchiveError(.io, "", "zstd compression failed: \(String(cString: ZSTD_getErrorName(written)))")
        }
        return written
    }
}

/// Streaming zstd decoding that reports where each frame ends, so a reader can check frame
/// boundaries against the seek table and stop exactly at the end of the data frames.
final class ZstdStreamDecoder {
    private let context: OpaquePointer
    /// Largest window a MailFerry writer uses is well below this; a bigger one is a hostile frame.
    static let maximumWindowLog: Int32 = 27

    init() {
        guard let context = ZSTD_createDCtx() else { fatalError("ZSTD_createDCtx: out of memory") }
        self.context = context
        ZSTD_DCtx_setParameter(context, ZSTD_d_windowLogMax, Self.maximumWindowLog)
    }

    deinit { ZSTD_freeDCtx(context) }

    func reset() { ZSTD_DCtx_reset(context, ZSTD_reset_session_only) }

    /// Decodes from `input[inputOffset...]` into `output[outputOffset...]`, advancing both.
    /// Returns true when a frame has just been completed.
    func decode(
        _ input: UnsafeRawBufferPointer, _ inputOffset: inout Int,
        _ output: UnsafeMutableRawBufferPointer, _ outputOffset: inout Int, location: String
    ) throws -> Bool {
        var inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: inputOffset)
        var outBuffer = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: outputOffset)
        let result = ZSTD_decompressStream(context, &outBuffer, &inBuffer)
        if ZSTD_isError(result) != 0 {
            throw ArchiveError(.verification, location, "zstd data is damaged: \(String(cString: ZSTD_getErrorName(result)))")
        }
        inputOffset = inBuffer.pos
        outputOffset = outBuffer.pos
        return result == 0
    }
}

enum ZstdFormat {
    static let frameMagic: UInt32 = 0xFD2F_B528
    /// Skippable frames carry magic 0x184D2A50 ... 0x184D2A5F; the seek table uses the last one.
    static let seekTableSkippableMagic: UInt32 = 0x184D_2A5E
}
