import MLRCRuntime

/// What `quantize` needs to build a graph, beyond the weights.
public struct BuildOptions {
    /// Family and size named by --arch (e.g. "mlrc_atto", "convnext_tiny", "hsnet", "efficientnet_lite0"), or nil to detect.
    public var arch: String?
    public var inputSize: Int?
    /// --stage-shortcut on|off for ConvNeXt-style nets; nil = on for MLRC, off for ConvNeXt.
    public var stageShortcut: Bool?

    public init(arch: String? = nil, inputSize: Int? = nil, stageShortcut: Bool? = nil) {
        self.arch = arch
        self.inputSize = inputSize
        self.stageShortcut = stageShortcut
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

    /// Indices of the graph's convolution nodes (general and depthwise): what int8 quantization works on.
    public var convolutionNodes: [Int] {
        builder.nodes.indices.filter { builder.nodes[$0].op == .conv || builder.nodes[$0].op == .depthwiseConv }
    }
}

public enum Family: String, CaseIterable {
    case convnext, mlrcConvnext = "mlrc_convnext", hsnet, efficientnetLite = "efficientnet_lite"
}

public enum ArchitectureRecognizer {
    /// Which family a state_dict belongs to, from its parameter names (or --arch).
    public static func family(of sd: StateDict, arch: String?) throws -> Family {
        if let arch = arch?.lowercased() {
            if arch.hasPrefix("mlrc") { return .mlrcConvnext }
            if arch.hasPrefix("convnext") { return .convnext }
            if arch.hasPrefix("hsnet") { return .hsnet }
            if arch.hasPrefix("efficientnet") { return .efficientnetLite }
            throw MLRCError.argument("unknown --arch \(arch): expected mlrc_*, convnext_*, hsnet or efficientnet_lite*")
        }
        if sd.has("downsample_layers.0.0.weight")
            || sd.has("stem.0.weight") && sd.has("stages.0.blocks.0.conv_dw.weight")
        {
            return sd.tensors.keys.contains { $0.hasSuffix("dwconv_v.weight") } ? .mlrcConvnext : .convnext
        }
        if sd.has("stem.sep.dw.weight") || sd.has("stages.0.0.het1.gwc.weight") { return .hsnet }
        if sd.has("_conv_stem.weight") && sd.has("_blocks.0._depthwise_conv.weight") { return .efficientnetLite }
        let sample = sd.names.prefix(6).joined(separator: ", ")
        throw MLRCError.format(
            "cannot recognise the architecture from the parameter names (\(sd.tensors.count) tensors: \(sample), ...); name it with --arch"
        )
    }

    public static func build(_ sd: StateDict, options: BuildOptions) throws -> BuiltNetwork {
        switch try family(of: sd, arch: options.arch) {
        case .convnext: return try ConvNeXtBuilder.build(sd, options: options, mlrc: false)
        case .mlrcConvnext: return try ConvNeXtBuilder.build(sd, options: options, mlrc: true)
        case .hsnet: return try HSNetBuilder.build(sd, options: options)
        case .efficientnetLite: return try EfficientNetLiteBuilder.build(sd, options: options)
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
    static func count(_ sd: StateDict, prefix: String) -> Int {
        var n = 0
        while sd.tensors.keys.contains(where: { $0.hasPrefix("\(prefix)\(n).") }) { n += 1 }  // unsorted: no copy
        return n
    }
}
