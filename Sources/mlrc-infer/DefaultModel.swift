#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Where mlrc-infer finds a model when --model is not given: $MLRC_MODEL, then the installed
/// PREFIX/share/mlrc/default.mlrc beside PREFIX/bin, then a checkout's `.build-model/default.mlrc`
/// in a folder above the executable (what `make model` writes).
enum DefaultModel {
    static let installedRelative = "../share/mlrc/default.mlrc"
    static let checkoutRelative = ".build-model/default.mlrc"

    static func candidates() -> [String] {
        var list: [String] = []
        if let env = getenv("MLRC_MODEL"), env.pointee != 0 { return [String(cString: env)] }
        if let exeDir = executableDirectory() {
            list.append(exeDir + "/" + installedRelative)
            var dir = exeDir
            for _ in 0..<6 {
                list.append(dir + "/" + checkoutRelative)
                guard let slash = dir.lastIndex(of: "/"), slash != dir.startIndex else { break }
                dir = String(dir[..<slash])
            }
        }
        return list
    }

    static func find() -> String? { candidates().first { access($0, R_OK) == 0 } }

    static func executableDirectory() -> String? {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        guard n > 0 else { return nil }
        let path = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let slash = path.lastIndex(of: "/") else { return nil }
        return String(path[..<slash])
    }
}
