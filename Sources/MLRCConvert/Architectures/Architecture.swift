import MLRCRuntime

/// What `quantize` needs to build a graph, beyond the weights.
public struct BuildOptions {
    /// Family and size named by --arch (e.g. "mlrc_atto", "convnext_tiny", "hsnet", "efficientnet_lite0"), or nil to detect.
    public var arch: String?
    public var inputSize: Int?
    /// --stage-shortcut on|off for ConvNeXt-style nets; nil = on for MLRC, off for ConvNeXt.
    public var stageShortcut: Bool?
    /// --mean/--std/--resize: preprocessing the network was trained with, when not ImageNet's.
    public var mean: [Float]?
    public var std: [Float]?
    public var resizeShorterSide: Int?
    /// --interpolation, --no-crop.
    public var interpolation: Preprocessing.Interpolation?
    public var centerCrop: Bool?

    public init(arch: String? = nil, inputSize: Int? = nil, stageShortcut: Bool? = nil) {
        self.arch = arch
        self.inputSize = inputSize
        self.stageShortcut = stageShortcut
    }

    /// These options with what a training script recorded filled in where the command line left them open,
    /// and what the user should be told about it. A size given on the command line also drops the recorded
    /// resize (it belonged to the recorded size).
    func filled(from meta: TrainingMetadata?) -> (BuildOptions, [String]) {
        guard let meta else { return (self, []) }
        var o = self
        var used: [String] = []
        var notes: [String] = []
        if o.arch == nil, let arch = meta.arch {
            if Family.allCases.contains(where: { $0.accepts(arch.lowercased()) }) {
                o.arch = arch
                used.append("architecture \(arch)")
            } else {
                notes.append(
                    "\(meta.source) names the architecture \(arch), which quantize does not know; recognising it")
            }
        }
        if o.stageShortcut == nil, let s = meta.stageShortcut {
            o.stageShortcut = s
            used.append("stage shortcut \(s ? "on" : "off")")
        }
        if o.inputSize == nil, let n = meta.inputSize {
            o.inputSize = n
            if o.resizeShorterSide == nil, let r = meta.resize { o.resizeShorterSide = r }
            used.append("input \(n)x\(n)" + (o.resizeShorterSide.map { ", resize \($0)" } ?? ""))
        }
        if o.mean == nil, let m = meta.mean {
            o.mean = m
            used.append("mean \(m.map { "\($0)" }.joined(separator: ","))")
        }
        if o.std == nil, let s = meta.std {
            o.std = s
            used.append("std \(s.map { "\($0)" }.joined(separator: ","))")
        }
        if o.interpolation == nil, let i = meta.interpolation {
            o.interpolation = i
            used.append(i.name)
        }
        if !used.isEmpty { notes.insert("from \(meta.source): \(used.joined(separator: ", "))", at: 0) }
        return (o, notes)
    }

    /// The recognised network's preprocessing with the user's choices in place of the defaults.
    func apply(to p: Preprocessing) -> Preprocessing {
        var p = p
        if let mean { p.mean = mean }
        if let std { p.std = std }
        if let resizeShorterSide { p.resizeShorterSide = resizeShorterSide }
        if let interpolation { p.interpolation = interpolation }
        if let centerCrop, !centerCrop {
            // Whole photo to the input size; a 1.2 reader, which ignores PREP, still finds a valid resize here.
            p.centerCrop = false
            p.resizeShorterSide = max(p.cropHeight, p.cropWidth)
        }
        return p
    }
}

/// A recognised network turned into a graph.
public struct BuiltNetwork {
    /// Name of what was recognised, e.g. "mlrc_convnext_atto" or "hsnet (custom widths)".
    public var architecture: String
    /// One line for the user: what was found in the checkpoint.
    public var summary: String
    public var builder: GraphBuilder
    public var output: Int
    public var numClasses: Int
    public var preprocessing: Preprocessing
    /// A quantized (QDQ) ONNX model's scales: activations by graph value, weights by convolution node.
    public var importedActivations: [Int: QuantParams] = [:]
    public var importedWeightScales: [Int: [Float]] = [:]

    /// Indices of the graph's convolution nodes (general and depthwise) that int8 quantization works on (all but
    /// the squeeze-and-excitation gates', which stay fp32).
    public var convolutionNodes: [Int] {
        builder.nodes.indices.filter {
            (builder.nodes[$0].op == .conv || builder.nodes[$0].op == .depthwiseConv)
                && !builder.floatOnly.contains($0)
        }
    }
}

extension BuiltNetwork {
    /// A network whose output value's channels are its classes, preprocessed for a square input of `inputSize`.
    init(architecture: String, summary: String, builder: GraphBuilder, output: Int, inputSize: Int) {
        self.init(
            architecture: architecture, summary: summary, builder: builder, output: output,
            numClasses: builder.shape(output).channels,
            preprocessing: ArchitectureRecognizer.preprocessing(size: inputSize))
    }
}

public enum ArchitectureRecognizer {
    /// Which family a state_dict belongs to, from its parameter names (or --arch, which must then fit them).
    public static func family(of sd: StateDict, arch: String?) throws -> Family {
        if let arch = arch?.lowercased() {
            let candidates = Family.allCases.filter { $0.accepts(arch) }
            guard let first = candidates.first else {
                throw MLRCError.argument(
                    "unknown --arch \(arch); `quantize --list-archs` prints every name (families: "
                        + Family.allCases.map(\.rawValue).joined(separator: ", ") + ")")
            }
            // A name two families share (efficientnet_lite0: lukemelas' and timm's) goes to the one whose names fit.
            // mlrc_* also takes a ConvNeXt with square depthwise convs: the stage shortcut leaves no weights.
            if let fitting = candidates.first(where: {
                $0.matches(sd) || $0 == .mlrcConvnext && Family.convnext.matches(sd)
            }) {
                return fitting
            }
            let missing = first.signature.filter { !sd.has($0) }
            let sample = sd.names.prefix(4).joined(separator: ", ")
            let why =
                missing.isEmpty
                ? "the checkpoint's names do not fit \(first.rawValue)"
                : "the checkpoint lacks \(missing.joined(separator: ", ")), which \(first.rawValue) checkpoints have"
            throw MLRCError.format("--arch \(arch): \(why) (its \(sd.tensors.count) tensors start \(sample), ...)")
        }
        if let family = Family.allCases.first(where: { $0.matches(sd) }) { return family }
        let sample = sd.names.prefix(6).joined(separator: ", ")
        let looked = Family.allCases.map { "\($0.rawValue) (\($0.signature.joined(separator: " + ")))" }
        throw MLRCError.format(
            "cannot recognise the architecture from the parameter names (\(sd.tensors.count) tensors: \(sample), ...). "
                + "Supported families and the names that identify them: \(looked.joined(separator: "; ")). "
                + "Name one with --arch (`quantize --list-archs`)")
    }

    public static func build(_ sd: StateDict, options: BuildOptions) throws -> BuiltNetwork {
        switch try family(of: sd, arch: options.arch) {
        case .convnext: return try ConvNeXtBuilder.build(sd, options: options, mlrc: false)
        case .mlrcConvnext: return try ConvNeXtBuilder.build(sd, options: options, mlrc: true)
        case .hsnet: return try HSNetBuilder.build(sd, options: options)
        case .efficientnetLite: return try EfficientNetLiteBuilder.build(sd, options: options)
        case .resnet: return try ResNetBuilder.build(sd, options: options)
        case .densenet: return try DenseNetBuilder.build(sd, options: options)
        case .mobilenetV2: return try MobileNetV2Builder.build(sd, options: options)
        case .mobilenetV3: return try MobileNetV3Builder.build(sd, options: options)
        case .shufflenetV2: return try ShuffleNetV2Builder.build(sd, options: options)
        case .mnasnet: return try MnasNetBuilder.build(sd, options: options)
        case .efficientnet: return try EfficientNetBuilder.build(sd, options: options)
        case .regnet: return try RegNetBuilder.build(sd, options: options)
        case .squeezenet: return try SqueezeNetBuilder.build(sd, options: options)
        case .vgg: return try VGGBuilder.build(sd, options: options)
        case .ghostnet: return try GhostNetBuilder.build(sd, options: options)
        case .timmEfficientNet: return try TimmEfficientNetBuilder.build(sd, options: options)
        }
    }

    /// Preprocessing for a square input of `size`: resize to size / 0.875 (256 for 224), crop `size`.
    static func preprocessing(size: Int) -> Preprocessing {
        var p = Preprocessing.imagenet
        p.resizeShorterSide = Int((Double(size) / 0.875).rounded())
        p.cropHeight = size
        p.cropWidth = size
        return p
    }

    /// Counts the indices i for which some name starts with "\(prefix)\(i)." (contiguous from 0).
    static func count(_ sd: StateDict, prefix: String, from first: Int = 0) -> Int {
        var n = first
        while sd.tensors.keys.contains(where: { $0.hasPrefix("\(prefix)\(n).") }) { n += 1 }  // unsorted: no copy
        return n - first
    }
}
