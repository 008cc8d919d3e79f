#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The bytes of a model: a read-only memory mapping of the file (weights are used in place, and pages
/// are shared between processes), or an aligned private copy for mlrc_model_open_memory.
public final class ModelBytes: @unchecked Sendable {
    public let bytes: UnsafeRawBufferPointer
    private let release: () -> Void

    /// Largest file accepted (a model is a few MB; this only bounds hostile inputs).
    public static let maxSize = 1 << 32

    public static func map(path: String) throws -> ModelBytes {
        let (fd, size) = try RegularFile.openForReading(path)
        defer { close(fd) }
        guard size > 0 else { throw MLRCError.format("\(path) is empty") }
        guard size <= maxSize else { throw MLRCError.format("\(path) is too large for a model") }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw MLRCError(.io, "cannot map \(path): \(String(cString: strerror(errno)))")
        }
        return ModelBytes(bytes: UnsafeRawBufferPointer(start: p, count: size)) { munmap(p, size) }
    }

    public static func copy(of data: UnsafeRawBufferPointer) throws -> ModelBytes {
        guard data.count > 0, let src = data.baseAddress else { throw MLRCError.format("empty model buffer") }
        guard data.count <= maxSize else { throw MLRCError.format("model buffer too large") }
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, 64, data.count) == 0, let raw else {
            throw MLRCError(.memory, "cannot allocate \(data.count) bytes for the model")
        }
        memcpy(raw, src, data.count)
        return ModelBytes(bytes: UnsafeRawBufferPointer(start: raw, count: data.count)) { free(raw) }
    }

    private init(bytes: UnsafeRawBufferPointer, release: @escaping () -> Void) {
        self.bytes = bytes
        self.release = release
    }

    deinit { release() }
}
