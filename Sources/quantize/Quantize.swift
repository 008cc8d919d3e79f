import ArgumentParser
import MLRCConvert
import MLRCRuntime

@main
struct Quantize: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Convert a PyTorch (.pth/.pt) or safetensors checkpoint into an .mlrc model file.",
        discussion: """
            The architecture (MLRC-ConvNeXt, ConvNeXt, HSNet, EfficientNet-Lite) and its size are recognised \
            from the parameter names and shapes; BatchNorm and layer scales are folded into the weights.
            """)

    @Argument(help: "The checkpoint: a state_dict, or a training checkpoint holding one under model/model_ema/state_dict.")
    var checkpoint: String

    @Option(name: .shortAndLong, help: "Output file (default: the checkpoint's name with .mlrc).")
    var output: String?

    @Option(help: "Architecture, when the names do not tell (mlrc_atto ... mlrc_base, convnext_*, hsnet, efficientnet_lite0..4).")
    var arch: String?

    @Option(help: "int8 or fp32.")
    var precision: String = "fp32"

    @Option(help: "Directory of JPEG calibration images (int8).")
    var calib: String?

    @Option(help: "Class names, one per line (default: ImageNet names for 1000 classes, else class_N).")
    var labels: String?

    @Option(name: .customLong("input-size"), help: "Square input size (default: the net's own, 224 for most).")
    var inputSize: Int?

    @Option(name: .customLong("stage-shortcut"), help: "on|off: the MLRC stage-level shortcut (default: on for MLRC nets).")
    var stageShortcut: String?

    func validate() throws {
        guard Converter.Precision(rawValue: precision) != nil else { throw ValidationError("--precision must be int8 or fp32") }
        if let s = stageShortcut, s != "on", s != "off" { throw ValidationError("--stage-shortcut must be on or off") }
        if let n = inputSize, n < 32 || n > 2048 { throw ValidationError("--input-size must be in 32...2048") }
    }

    func run() throws {
        let options = BuildOptions(arch: arch, inputSize: inputSize, stageShortcut: stageShortcut.map { $0 == "on" })
        let converter = Converter(options: options, precision: Converter.Precision(rawValue: precision) ?? .fp32,
                                  labelsFile: labels)
        if calib != nil && precision == "fp32" { print("note: --calib is used by int8 quantization only; ignored for fp32") }
        do {
            let result = try converter.convert(checkpoint: checkpoint)
            let out = output ?? Self.defaultOutput(for: checkpoint)
            try FileBytes.write(out, result.bytes)
            print("read \(result.checkpointTensors) tensors from \(result.origin) of \(checkpoint)")
            print("recognised \(result.network.summary)")
            print("labels: \(result.labelSource)")
            print("wrote \(out) (\(precision), \(result.network.builder.nodes.count) ops, \(result.bytes.count) bytes)")
        } catch let e as MLRCError {
            throw ValidationErrorish(message: e.message)
        }
    }

    static func defaultOutput(for path: String) -> String {
        let slash = path.lastIndex(of: "/")
        let nameStart = slash.map { path.index(after: $0) } ?? path.startIndex
        if let dot = path[nameStart...].lastIndex(of: "."), dot != nameStart {
            return String(path[..<dot]) + ".mlrc"
        }
        return path + ".mlrc"
    }
}

/// An error printed as "Error: message" with exit code 1.
struct ValidationErrorish: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
