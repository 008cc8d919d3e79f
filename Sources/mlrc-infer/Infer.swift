#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif
import ArgumentParser
import CMLRCABI
import CMLRCKernels
import MLRCRuntime

@main
struct Infer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mlrc-infer",
        abstract: "Classify JPEG images with an .mlrc model and print the top-K labels.",
        discussion: """
            IMAGE is a JPEG file, a directory (searched recursively for .jpg/.jpeg files, in sorted order) or - for \
            one JPEG on standard input. Output is in input order whatever --jobs is. Without --model: $MLRC_MODEL, \
            else the installed share/mlrc/default.mlrc, else the checkout's .build-model/default.mlrc.
            """,
        version: MLRC_VERSION)

    @Option(help: "The .mlrc model file.")
    var model: String?

    @Option(help: "How many predictions to print per image.")
    var top: Int = 5

    @Option(help: "Kernel threads per session (0 = the cores divided among the --jobs sessions).")
    var threads: Int = 0

    @Option(help: "Images classified at once, each by its own session sharing the one mapped model.")
    var jobs: Int = 1

    @Flag(help: "One JSON object per image and line; a failed image gets {\"image\": ..., \"error\": ...}.")
    var json = false

    @Flag(help: "Print images/s at the end (on by default when standard error is a terminal).")
    var throughput = false

    @Flag(
        name: .customLong("print-preprocessing"),
        help: "Print what the model file says about its input and preprocessing, as JSON, and exit.")
    var printPreprocessing = false

    @Option(help: "Run the first image N more times and print the time per operation kind.")
    var profile: Int = 0

    @Argument(help: "JPEG files, directories, or - for standard input.")
    var images: [String] = []

    func validate() throws {
        guard !images.isEmpty || printPreprocessing else { throw ValidationError("give at least one JPEG file") }
        guard top >= 1 else { throw ValidationError("--top must be at least 1") }
        guard threads >= 0, threads <= 1024 else { throw ValidationError("--threads must be in 0...1024") }
        guard jobs >= 1, jobs <= 256 else { throw ValidationError("--jobs must be in 1...256") }
        guard images.filter({ $0 == ImageList.stdinName }).count <= 1 else {
            throw ValidationError("standard input (-) can be read once")
        }
        guard profile == 0 || jobs == 1 else { throw ValidationError("--profile runs with --jobs 1") }
    }

    func run() throws {
        guard let path = model ?? DefaultModel.find() else {
            fail(
                "no model: pass --model PATH, set MLRC_MODEL, or run `make model` (looked in \(DefaultModel.candidates().joined(separator: ", ")))"
            )
            throw ExitCode(2)
        }
        let shared: Model
        do {
            shared = try Model(path: path)
        } catch {
            fail("\(path): \(error)")
            throw ExitCode(2)
        }
        if printPreprocessing {
            let d = shared.description
            let s = d.inputShape
            print(
                "{\"model\": \(jsonString(path)), \"architecture\": \(jsonString(d.architecture)), \"classes\": "
                    + "\(d.labels.count), \"input\": [\(s.channels), \(s.height), \(s.width)], \"preprocessing\": "
                    + "\(d.preprocessing.json)}")
            if images.isEmpty { return }
        }
        let (list, listErrors) = ImageList.expand(images)
        var failures = 0
        for (dir, message) in listErrors {
            failures += 1
            report(dir, message)
        }
        let jobs = max(1, min(self.jobs, list.count))
        let cores = Int(mlrc_max_threads())
        let perSession = threads > 0 ? threads : max(1, cores / jobs)
        var sessions: [Session] = []
        do {
            for _ in 0..<jobs { sessions.append(try Session(model: shared, threads: perSession)) }
        } catch {
            fail("\(path): \(error)")
            throw ExitCode(2)
        }
        let labels = shared.labels
        let started = Double(Clock.nanoseconds()) * 1e-9
        let top = min(self.top, shared.numClasses)
        let work = OrderedWork<Session, Result<[Prediction], Error>>(count: list.count) { session, i in
            Result { try classify(list[i], session, top: top) }
        }
        try work.run(states: sessions) { i, result in
            switch result {
            case .success(let best):
                if json {
                    let items = best.map {
                        "{\"index\":\($0.index),\"label\":\(jsonString(labels[$0.index])),\"probability\":\($0.probability)}"
                    }
                    print("{\"image\":\(jsonString(list[i])),\"top\":[\(items.joined(separator: ","))]}")
                } else {
                    print(list[i])
                    for p in best {
                        print("  \(pad(percent(p.probability), 6))%  \(pad(String(p.index), 4))  \(labels[p.index])")
                    }
                }
            case .failure(let error):
                failures += 1
                report(list[i], "\(error)")
            }
            fflush(stdout)
        }
        if throughput || isatty(2) != 0, !list.isEmpty {
            let seconds = max(Double(Clock.nanoseconds()) * 1e-9 - started, 1e-9)
            fail(
                "\(list.count) images in \(fixed(seconds, 2)) s: \(fixed(Double(list.count) / seconds, 1)) images/s "
                    + "(\(jobs) job\(jobs == 1 ? "" : "s") x \(perSession) thread\(perSession == 1 ? "" : "s"))")
        }
        if failures > 0 { throw ExitCode(1) }
    }

    /// One image: read, decode, preprocess as the model says, run; the top predictions.
    func classify(_ image: String, _ session: Session, top: Int) throws -> [Prediction] {
        let bytes = try ImageList.read(image, limit: 512 << 20)
        let rgb = try bytes.withUnsafeBytes { try RGBImage(jpeg: $0) }
        var logits = [Float](repeating: 0, count: session.model.numClasses)
        try logits.withUnsafeMutableBufferPointer {
            try session.run(
                rgb: rgb.pixels, width: rgb.width, height: rgb.height, rowStride: 3 * rgb.width,
                logits: $0.baseAddress!)
        }
        if profile > 0 { printProfile(session, logits: &logits) }
        return logits.withUnsafeBufferPointer { Classification.top(top, logits: $0) }
    }

    /// A failed image: one line on stderr, and with --json also its JSON line in the output.
    func report(_ image: String, _ message: String) {
        if json { print("{\"image\":\(jsonString(image)),\"error\":\(jsonString(message))}") }
        fail("\(image): \(message)")
    }

    func printProfile(_ session: Session, logits: inout [Float]) {
        let times = logits.withUnsafeMutableBufferPointer { session.profile(runs: profile, logits: $0.baseAddress!) }
        var byKind: [String: (Double, Int)] = [:]
        let kernels = session.kernelNames
        for (index, (step, ms)) in zip(session.model.graph.steps, times).enumerated() {
            var key = "\(step.node.op)"
            if step.node.op == .conv || step.node.op == .quantizedConv {
                let g = step.geometry
                key += g.kernel_h == 1 && g.kernel_w == 1 ? " 1x1" : " \(g.kernel_h)x\(g.kernel_w)"
                if g.groups > 1 { key += " grouped" }
            }
            if !kernels[index].isEmpty {
                key += kernels[index].hasPrefix("done by node") ? " [done by its producer]" : " [\(kernels[index])]"
            }
            byKind[key, default: (0, 0)].0 += ms
            byKind[key, default: (0, 0)].1 += 1
        }
        if getenv("MLRC_PROFILE_NODES") != nil {
            for (i, (step, ms)) in zip(session.model.graph.steps, times).enumerated() {
                let shapes = session.model.graph.shapes
                let g = step.geometry
                print(
                    "  node \(i) \(step.node.op) \(shapes[step.node.inputs[0]]) -> \(shapes[step.output]) k\(g.kernel_h)x\(g.kernel_w) g\(g.groups) act \(step.activation)\(kernels[i].isEmpty ? "" : " [\(kernels[i])]"): \(Int((ms * 1000).rounded())) us"
                )
            }
        }
        let total = times.reduce(0, +)
        var features = [CChar](repeating: 0, count: 256)
        let isa = mlrc_isa_name(mlrc_kernels_active_isa()).map { String(cString: $0) } ?? "?"
        print(
            "kernels: ISA level \(isa), enabled: \(String(cString: mlrc_cpu_feature_names(mlrc_cpu_enabled(), &features, 256)))"
        )
        let m = session.memory
        print(
            "memory: activations \((m.activations + 1023) / 1024) KiB (planned buffers), scratch "
                + "\((m.scratch + 1023) / 1024) KiB, folded biases \((m.biases + 1023) / 1024) KiB")
        print("profile: \(percent(Float(total / 100))) ms per run over \(times.count) ops")
        for (k, v) in byKind.sorted(by: { $0.value.0 > $1.value.0 }) {
            print("  \(pad(percent(Float(v.0 / 100)), 8)) ms  \(pad(String(v.1), 4)) x \(k)")
        }
    }

    func fail(_ message: String) {
        fputs("mlrc-infer: \(message)\n", stderr)
    }

    /// 0.32949 -> "32.95" (no Foundation formatting in this tool).
    func percent(_ p: Float) -> String {
        let v = Int((Double(p) * 10000).rounded())
        let frac = v % 100
        return "\(v / 100).\(frac < 10 ? "0" : "")\(frac)"
    }

    func pad(_ s: String, _ n: Int) -> String { String(repeating: " ", count: max(0, n - s.count)) + s }

    func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default:
                if u.value < 0x20 {
                    out += "\\u00" + String(u.value, radix: 16).leftPad2()
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }
}

extension String {
    func leftPad2() -> String { count < 2 ? "0" + self : self }
}
