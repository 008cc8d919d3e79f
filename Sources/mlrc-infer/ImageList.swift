#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif
import MLRCRuntime

/// The command line's images: files as given, directories walked recursively for `.jpg`/`.jpeg` (sorted, each
/// real directory once, so a symlink loop ends), and `-` for one image on standard input.
enum ImageList {
    static let stdinName = "-"

    static func expand(_ arguments: [String]) -> (images: [String], errors: [(String, String)]) {
        var images: [String] = []
        var errors: [(String, String)] = []
        var seen = Set<[UInt64]>()
        for argument in arguments {
            var st = stat()
            if argument != stdinName, stat(argument, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR {
                let before = images.count
                walk(argument, into: &images, errors: &errors, seen: &seen)
                if images.count == before { errors.append((argument, "no .jpg or .jpeg files in this directory")) }
            } else {
                images.append(argument)  // a missing or unreadable file is reported when it is read
            }
        }
        return (images, errors)
    }

    private static func walk(
        _ dir: String, into images: inout [String], errors: inout [(String, String)], seen: inout Set<[UInt64]>
    ) {
        var st = stat()
        guard stat(dir, &st) == 0 else { return }
        guard seen.insert([UInt64(st.st_dev), UInt64(st.st_ino)]).inserted else { return }
        guard let names = JPEGNames.entries(of: dir) else {
            errors.append((dir, "cannot open directory: \(String(cString: strerror(errno)))"))
            return
        }
        for name in names {
            let path = JPEGNames.join(dir, name)
            var entry = stat()
            guard stat(path, &entry) == 0 else { continue }  // a dangling link
            if (entry.st_mode & S_IFMT) == S_IFDIR {
                walk(path, into: &images, errors: &errors, seen: &seen)
            } else if JPEGNames.matches(name) {
                images.append(path)
            }
        }
    }

    /// An image's bytes: a regular file of at most `limit` (a FIFO or device is refused without blocking), or
    /// standard input read to its end.
    static func read(_ path: String, limit: Int) throws -> [UInt8] {
        guard path == stdinName else { return try RegularFile.readAll(path, limit: limit) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(0, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw MLRCError(.io, "cannot read standard input: \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            guard bytes.count + n <= limit else { throw MLRCError(.io, "standard input is larger than \(limit) bytes") }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return bytes
    }
}
