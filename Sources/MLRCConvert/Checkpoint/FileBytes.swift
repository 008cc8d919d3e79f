#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif
import MLRCRuntime

/// Whole-file reading and writing without Foundation.
public enum FileBytes {
    public static func read(_ path: String, limit: Int = 1 << 34) throws -> [UInt8] {
        guard let f = fopen(path, "rb") else {
            throw MLRCError(.io, "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        defer { fclose(f) }
        var st = stat()
        guard fstat(fileno(f), &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            throw MLRCError(.io, "\(path) is not a regular file")
        }
        let size = Int(st.st_size)
        guard size <= limit else { throw MLRCError(.io, "\(path) is too large") }
        var bytes = [UInt8](repeating: 0, count: size)
        let got = bytes.withUnsafeMutableBytes { fread($0.baseAddress, 1, size, f) }
        guard got == size else { throw MLRCError(.io, "cannot read \(path)") }
        return bytes
    }

    public static func write(_ path: String, _ bytes: [UInt8]) throws {
        guard let f = fopen(path, "wb") else {
            throw MLRCError(.io, "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        let put = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, bytes.count, f) }
        let closed = fclose(f)
        guard put == bytes.count, closed == 0 else { throw MLRCError(.io, "cannot write \(path)") }
    }
}
