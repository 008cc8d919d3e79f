#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif
import ArgumentParser
import CMLRCKernels
import MLRCRuntime

@main
struct Infer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mlrc-infer",
        abstract: "Classify JPEG images with an .mlrc model and print the top-K labels.",
        discussion:
            "Without --model: $MLRC_MODEL, else the installed share/mlrc/default.mlrc, else the checkout's .build-model/default.mlrc."
    )

    @Option(help: "The .mlrc model file.")
    var model: String?

    @Option(help: "How many predictions to print per image.")
    var top: Int = 5

    @Option(help: "Threads (0 = all cores).")
    var threads: Int = 0

    @Flag(help: "One JSON object per image and line.")
    var json = false

    @Option(help: "Run the first image N more times and print the time per operation kind.")
    var profile: Int = 0

    @Argument(help: "JPEG files.")
    var images: [String]

    func validate() throws {
        guard !images.isEmpty else { throw ValidationError("give at least one JPEG file") }
        guard top >= 1 else { throw ValidationError("--top must be at least 1") }
        guard threads >= 0, threads <= 1024 else { throw ValidationError("--threads must be in 0...1024") }
    }

    func run() throws {
        guard let path = model ?? DefaultModel.find() else {
            fail(
                "no model: pass --model PATH, set MLRC_MODEL, or run `make model` (looked in \(DefaultModel.candidates().joined(separator: ", ")))"
            )
            throw ExitCode(2)
        }
        let session: Session
        do {
            session = try Session(model: try Model(path: path), threads: threads)
        } catch {
            fail("\(path): \(error)")
            throw ExitCode(2)
        }
        let labels = session.model.labels
        var logits = [Float](repeating: 0, count: session.model.numClasses)
        var failures = 0
        for image in images {
            do {
                let bytes = try readFile(image)
                let rgb = try bytes.withUnsafeBytes { try RGBImage(jpeg: $0) }
                try logits.withUnsafeMutableBufferPointer {
                    try session.run(
                        rgb: rgb.pixels, width: rgb.width, height: rgb.height, rowStride: 3 * rgb.width,
                        logits: $0.baseAddress!)
                }
                if profile > 0 { printProfile(session, logits: &logits) }
                let best = logits.withUnsafeBufferPointer { Classification.top(top, logits: $0) }
                if json {
                    let items = best.map {
                        "{\"index\":\($0.index),\"label\":\(jsonString(labels[$0.index])),\"probability\":\($0.probability)}"
                    }
                    print("{\"image\":\(jsonString(image)),\"top\":[\(items.joined(separator: ","))]}")
                } else {
                    print(image)
                    for p in best {
                        print("  \(pad(percent(p.probability), 6))%  \(pad(String(p.index), 4))  \(labels[p.index])")
                    }
                }
            } catch {
                failures += 1
                fail("\(image): \(error)")
            }
        }
        if failures > 0 { throw ExitCode(1) }
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
        print("profile: \(percent(Float(total / 100))) ms per run over \(times.count) ops")
        for (k, v) in byKind.sorted(by: { $0.value.0 > $1.value.0 }) {
            print("  \(pad(percent(Float(v.0 / 100)), 8)) ms  \(pad(String(v.1), 4)) x \(k)")
        }
    }

    func fail(_ message: String) {
        fputs("mlrc-infer: \(message)\n", stderr)
    }

    /// A regular file of at most 512 MB (a FIFO or device is refused without blocking).
    func readFile(_ path: String) throws -> [UInt8] {
        try RegularFile.readAll(path, limit: 512 << 20)
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
