#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Where the calibration photos shipped with mlrc are: installed beside the binary (PREFIX/share/mlrc/calibration,
/// by `make install`), or in the source tree this binary was built from (tools/calibration-photos).
enum BundledPhotos {
    static func directory() -> String? {
        var candidates: [String] = []
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        if n > 0 {
            let exe = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if let slash = exe.lastIndex(of: "/") {
                candidates.append(String(exe[..<slash]) + "/../share/mlrc/calibration")
            }
        }
        // #filePath is Sources/quantize/BundledPhotos.swift: the repository is two levels up.
        let source = "\(#filePath)"
        var parts = source.split(separator: "/", omittingEmptySubsequences: false)
        if parts.count > 3 {
            parts.removeLast(3)
            candidates.append(parts.joined(separator: "/") + "/tools/calibration-photos")
        }
        return candidates.first { access($0, R_OK | X_OK) == 0 }
    }
}
