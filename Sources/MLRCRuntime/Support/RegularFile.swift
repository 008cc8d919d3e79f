#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Opening a file that must be a regular file, without blocking: a FIFO or a device given as a model, image or
/// checkpoint would otherwise block `open` (a FIFO with no writer) forever before any check could run.
public enum RegularFile {
    /// A read-only descriptor of `path` (the caller closes it) and the file's size.
    public static func openForReading(_ path: String) throws -> (fd: Int32, size: Int) {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        guard fd >= 0 else { throw MLRCError(.io, "cannot open \(path): \(String(cString: strerror(errno)))") }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            close(fd)
            throw MLRCError(.io, "cannot stat \(path)")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw MLRCError(.io, "\(path) is not a regular file")
        }
        // Reads of a regular file never block; clear the flag so they also never return EAGAIN.
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0 { _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) }
        return (fd, Int(st.st_size))
    }

    /// The whole file (at most `limit` bytes).
    public static func readAll(_ path: String, limit: Int) throws -> [UInt8] {
        let (fd, size) = try openForReading(path)
        defer { close(fd) }
        guard size <= limit else { throw MLRCError(.io, "\(path) is too large (\(size) bytes, at most \(limit))") }
        var bytes = [UInt8](repeating: 0, count: size)
        var got = 0
        while got < size {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + got, size - got) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw MLRCError(.io, "cannot read \(path)") }
            got += n
        }
        return bytes
    }
}
