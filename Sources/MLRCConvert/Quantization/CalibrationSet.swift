#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif
import MLRCRuntime

/// Calibration inputs: JPEG photos decoded and preprocessed exactly as at inference (resize, center crop,
/// normalise), one NHWC float tensor each.
public struct CalibrationSet {
    public var inputs: [[Float]]
    public var files: [String]
    /// Files that could not be used, with the reason.
    public var skipped: [(file: String, reason: String)]

    /// The JPEG files (.jpg/.jpeg, any case) of a directory and of the folders under it (an ImageFolder's
    /// class folders, up to `maxDepth` levels), at most `limit`: taken in turn from each folder, by name within
    /// one, so that a limit under the total still covers every class.
    public static func jpegFiles(in directory: String, limit: Int) throws -> [String] {
        guard let names = JPEGNames.entries(of: directory) else {
            throw MLRCError(.io, "cannot open calibration directory \(directory): \(String(cString: strerror(errno)))")
        }
        var folders: [[String]] = []
        collect(directory, names, depth: 0, into: &folders)
        var picked: [String] = []
        var next = 0
        while picked.count < limit {
            var any = false
            for f in folders where next < f.count && picked.count < limit {
                picked.append(f[next])
                any = true
            }
            if !any { break }
            next += 1
        }
        return picked
    }

    static let maxDepth = 4

    /// Each folder's JPEGs as one group (empty groups left out), depth-first in name order.
    private static func collect(_ dir: String, _ names: [String], depth: Int, into folders: inout [[String]]) {
        let files = names.filter(JPEGNames.matches).map { JPEGNames.join(dir, $0) }
        if !files.isEmpty { folders.append(files) }
        guard depth < maxDepth else { return }
        for name in names where !JPEGNames.matches(name) && !name.hasPrefix(".") {
            let path = JPEGNames.join(dir, name)
            if let inner = JPEGNames.entries(of: path) { collect(path, inner, depth: depth + 1, into: &folders) }
        }
    }

    /// Decodes and preprocesses every file; `progress(done, total)` after each.
    public static func load(
        files: [String], preprocessing: Preprocessing, inputShape: Shape,
        progress: (Int, Int) -> Void
    ) throws -> CalibrationSet {
        var set = CalibrationSet(inputs: [], files: [], skipped: [])
        for (i, file) in files.enumerated() {
            do {
                let bytes = try FileBytes.read(file, limit: 256 << 20)
                let image = try bytes.withUnsafeBytes { try RGBImage(jpeg: $0) }
                var input = [Float](repeating: 0, count: inputShape.count)
                try input.withUnsafeMutableBufferPointer { out in
                    try Preprocessor.preprocess(
                        rgb: image.pixels, width: image.width, height: image.height,
                        rowStride: 3 * image.width, spec: preprocessing, into: out.baseAddress!)
                }
                set.inputs.append(input)
                set.files.append(file)
            } catch let e as MLRCError {
                set.skipped.append((file, e.message))
            }
            progress(i + 1, files.count)
        }
        guard !set.inputs.isEmpty else {
            throw MLRCError.argument("no usable calibration image among \(files.count) files")
        }
        return set
    }
}
