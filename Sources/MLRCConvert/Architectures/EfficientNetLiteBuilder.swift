import MLRCRuntime

/// EfficientNet-Lite (lukemelas-style naming): MBConv blocks with ReLU6, no SE, TensorFlow "same"
/// padding, BatchNorm eps 1e-3. Strides are not in a checkpoint: stages are found where the output
/// width changes, and take the Lite stage strides 1, 2, 2, 2, 1, 2, 1.
enum EfficientNetLiteBuilder {
    static let eps: Float = 1e-3
    static let stageStrides = [1, 2, 2, 2, 1, 2, 1]
    /// Block counts and third-stage width of each variant, and its input size.
    static let variants: [(name: String, blocks: Int, width3: Int, input: Int)] = [
        ("efficientnet_lite0", 16, 40, 224), ("efficientnet_lite1", 21, 40, 240), ("efficientnet_lite2", 21, 48, 260),
        ("efficientnet_lite3", 26, 48, 280), ("efficientnet_lite4", 32, 56, 300),
    ]

    static func build(_ sd: StateDict, options: BuildOptions) throws -> BuiltNetwork {
        let blocks = ArchitectureRecognizer.count(sd, prefix: "_blocks.")
        let outs = try (0..<blocks).map { try sd.tensor("_blocks.\($0)._project_conv.weight").dim(0) }
        var stageOf: [Int] = []
        var stage = -1
        var widths: [Int] = []
        for (i, c) in outs.enumerated() {
            if i == 0 || c != outs[i - 1] { stage += 1; widths.append(c) }
            stageOf.append(stage)
        }
        guard widths.count == stageStrides.count else {
            throw MLRCError.format(
                "EfficientNet-Lite: found \(widths.count) stages (output widths \(widths)), expected 7")
        }
        let variant = variants.first { $0.blocks == blocks && $0.width3 == widths[2] }
        let inputSize = options.inputSize ?? variant?.input ?? 224
        let b = GraphBuilder(squareInput: inputSize)
        var x = try convBN(b, sd, 0, "_conv_stem", "_bn0", stride: 2, act: .relu6)
        for i in 0..<blocks {
            let p = "_blocks.\(i)."
            let first = i == 0 || stageOf[i] != stageOf[i - 1]
            let stride = first ? stageStrides[stageOf[i]] : 1
            let input = x
            if sd.has(p + "_expand_conv.weight") {
                x = try convBN(b, sd, x, p + "_expand_conv", p + "_bn0", stride: 1, act: .relu6)
            }
            x = try convBN(b, sd, x, p + "_depthwise_conv", p + "_bn1", stride: stride, act: .relu6)
            x = try convBN(b, sd, x, p + "_project_conv", p + "_bn2", stride: 1, act: .none)
            if stride == 1 && b.shape(input) == b.shape(x) { x = try b.add(x, input) }
        }
        x = try convBN(b, sd, x, "_conv_head", "_bn1", stride: 1, act: .relu6)
        x = b.globalAvgPool(x)
        let fc = try sd.tensor("_fc.weight")
        x = try b.linear(x, weight: fc, bias: sd.optionalVector("_fc.bias"), name: "_fc")
        let name = variant?.name ?? "efficientnet_lite_custom"
        let summary =
            "\(name): \(blocks) MBConv blocks, stage widths \(widths), \(fc.dim(0)) classes, input \(inputSize)"
        return BuiltNetwork(architecture: name, summary: summary, builder: b, output: x, inputSize: inputSize)
    }

    static func convBN(
        _ b: GraphBuilder, _ sd: StateDict, _ x: Int, _ conv: String, _ bn: String, stride: Int,
        act: Activation
    ) throws -> Int {
        try b.convBN(sd, x, conv: conv, bn: bn, eps: eps, stride: stride, padding: .same, act: act)
    }
}
