#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif
import MLRCRuntime

/// Whole-file reading and writing without Foundation.
public enum FileBytes {
    /// A regular file's bytes (a FIFO or device is refused without blocking).
    public static func read(_ path: String, limit: Int = 1 << 34) throws -> [UInt8] {
        try RegularFile.readAll(path, limit: limit)
    }

    /// The first `count` bytes of a regular file (fewer when it is shorter).
    public static func readPrefix(_ path: String, count: Int) throws -> [UInt8] {
        let (fd, size) = try RegularFile.openForReading(path)
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: min(count, size))
        let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard n >= 0 else { throw MLRCError(.io, "cannot read \(path)") }
        return Array(bytes.prefix(n))
    }

    /// Fails now, before minutes of calibration, when `write(path, ...)` could not succeed: the folder is missing or
    /// not writable, or the path is a folder. Creates and removes the same temporary file `write` would.
    public static func checkWritable(_ path: String) throws {
        var st = stat()
        if stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
            throw MLRCError(.io, "cannot write \(path): it is a directory")
        }
        let temporary = "\(path).tmp-\(getpid())"
        guard let f = fopen(temporary, "wb") else {
            throw MLRCError(.io, "cannot write \(path): \(String(cString: strerror(errno)))")
        }
        fclose(f)
        unlink(temporary)
    }

    /// Writes through a temporary file in the same folder, then renames it over `path`: a reader never sees a
    /// half-written file, and an input named like the output is read whole before it is replaced.
    public static func write(_ path: String, _ bytes: [UInt8]) throws {
        let temporary = "\(path).tmp-\(getpid())"
        guard let f = fopen(temporary, "wb") else {
            throw MLRCError(.io, "cannot create \(temporary): \(String(cString: strerror(errno)))")
        }
        let put = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, bytes.count, f) }
        let flushed = fflush(f) == 0 && fsync(fileno(f)) == 0
        let closed = fclose(f)
        guard put == bytes.count, flushed, closed == 0 else {
            unlink(temporary)
            throw MLRCError(.io, "cannot write \(temporary)")
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw MLRCError(.io, "cannot rename \(temporary) to \(path): \(reason)")
        }
    }
}
