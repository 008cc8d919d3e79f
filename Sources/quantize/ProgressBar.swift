#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A one-line progress bar on stderr for the long passes (calibration takes minutes on a board). On a pipe or
/// a log file it prints one line per finished stage instead of redrawing.
final class ProgressBar {
    private let interactive = isatty(2) != 0
    private var lastStage = ""

    func show(_ stage: String, _ done: Int, _ total: Int) {
        if interactive {
            let width = 30, filled = total > 0 ? width * done / total : width
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            fputs("\r\(stage) [\(bar)] \(done)/\(total)\u{1B}[K", stderr)
            if done == total { fputs("\n", stderr) }
        } else if done == total && stage != lastStage {
            fputs("\(stage): \(total)/\(total) done\n", stderr)
        }
        if done == total { lastStage = stage }
    }
}
