import MLRCRuntime

/// timm's EfficientNet-style networks, which share one naming: `conv_stem` + `bn1`, stages of blocks `blocks.s.j`
/// (depthwise separable: `conv_dw`/`bn1`, `conv_pw`/`bn2`; inverted residual: `conv_pw`/`bn1`, `conv_dw`/`bn2`,
/// `conv_pwl`/`bn3`; either with an optional `se.conv_reduce`/`se.conv_expand`), an optional `conv_head` + `bn2`,
/// the global mean and `classifier`. What the weights cannot say comes from the family:
/// - MobileNetV1 (`mobilenetv1_100`: only separable blocks, five stages, strides 1, 2, 2, 2, 2): ReLU6, after the
///   pointwise convolution too, no residuals.
/// - EfficientNet-Lite (`efficientnet_lite0`-`4`, no SE, seven stages, strides 1, 2, 2, 2, 1, 2, 1): ReLU6.
/// - EfficientNet (`efficientnet_b0`-`b3`, with SE): SiLU, sigmoid gate.
/// The `tf_` ports of TensorFlow weights (`tf_efficientnet_lite0`, ...) pad "same" with BatchNorm eps 1e-3; they
/// store the same names, so only --arch tells them apart (the default is timm's PyTorch-native padding, eps 1e-5).
enum TimmEfficientNetBuilder {
    static func build(_ sd: StateDict, options: BuildOptions) throws -> BuiltNetwork {
        let stages = ArchitectureRecognizer.count(sd, prefix: "blocks.")
        let perStage = (0..<stages).map { ArchitectureRecognizer.count(sd, prefix: "blocks.\($0).") }
        let inverted = sd.tensors.keys.contains { $0.hasSuffix("conv_pwl.weight") }
        let se = sd.tensors.keys.contains { $0.hasSuffix("se.conv_reduce.weight") }
        let strides: [Int]
        switch (inverted, stages) {
        case (false, 5): strides = [1, 2, 2, 2, 2]
        case (true, 7): strides = [1, 2, 2, 2, 1, 2, 1]
        default:
            throw MLRCError.format(
                "timm EfficientNet/MobileNetV1: expected 7 stages of blocks.s.j (inverted residual, conv_pwl) or 5 "
                    + "(depthwise separable only); found \(stages) stages with blocks \(perStage)")
        }
        let family = !inverted ? "mobilenetv1" : se ? "efficientnet" : "efficientnet_lite"
        let act: Activation = se ? .silu : .relu6
        let tf = options.arch?.lowercased().hasPrefix("tf_") ?? false
        let eps: Float = tf ? 1e-3 : 1e-5
        let variant = variantName(family: family, perStage: perStage, sd: sd)
        let inputSize = options.inputSize ?? variant?.input ?? 224
        let b = GraphBuilder(squareInput: inputSize)
        func conv(_ x: Int, _ c: String, _ bn: String, stride: Int = 1, act: Activation = .none) throws -> Int {
            if tf { return try b.convBN(sd, x, conv: c, bn: bn, eps: eps, stride: stride, padding: .same, act: act) }
            return try b.torchConv(sd, x, c, bn: bn, stride: stride, act: act, eps: eps)
        }
        var x = try conv(0, "conv_stem", "bn1", stride: 2, act: act)
        for (s, n) in perStage.enumerated() {
            for j in 0..<n {
                let p = "blocks.\(s).\(j)."
                let stride = j == 0 ? strides[s] : 1
                let input = x
                if sd.has(p + "conv_pwl.weight") {
                    x = try conv(x, p + "conv_pw", p + "bn1", act: act)
                    x = try conv(x, p + "conv_dw", p + "bn2", stride: stride, act: act)
                    x = try gate(b, sd, x, p)
                    x = try conv(x, p + "conv_pwl", p + "bn3")
                } else if sd.has(p + "conv_dw.weight") {
                    x = try conv(x, p + "conv_dw", p + "bn1", stride: stride, act: act)
                    x = try gate(b, sd, x, p)
                    x = try conv(x, p + "conv_pw", p + "bn2", act: inverted ? .none : act)
                } else {
                    x = try conv(x, p + "conv", p + "bn1", stride: stride, act: act)
                }
                if stride == 1 && b.shape(input) == b.shape(x) && family != "mobilenetv1" { x = try b.add(x, input) }
            }
        }
        if sd.has("conv_head.weight") { x = try conv(x, "conv_head", "bn2", act: act) }
        x = b.globalAvgPool(x)
        let (logits, classes) = try b.classifier(sd, x, prefix: "classifier")
        let name = (tf ? "tf_" : "") + (variant?.name ?? "\(family)_custom")
        let summary = "\(name): blocks per stage \(perStage), \(classes) classes, input \(inputSize)"
        return BuiltNetwork(architecture: name, summary: summary, builder: b, output: logits, inputSize: inputSize)
    }

    static func gate(_ b: GraphBuilder, _ sd: StateDict, _ x: Int, _ p: String) throws -> Int {
        guard sd.has(p + "se.conv_reduce.weight") else { return x }
        return try b.squeezeExcite(
            sd, x, reduce: p + "se.conv_reduce", expand: p + "se.conv_expand", act: .silu, gate: .sigmoid)
    }

    /// The named size a checkpoint is, by its blocks per stage and stem width, with its input size.
    static func variantName(family: String, perStage: [Int], sd: StateDict) -> (name: String, input: Int)? {
        let stem = sd.tensors["conv_stem.weight"]?.dim(0) ?? 0
        switch family {
        case "mobilenetv1":
            return perStage == [1, 2, 2, 6, 2] && stem == 32 ? ("mobilenetv1_100", 224) : nil
        case "efficientnet_lite":
            let lite: [[Int]: (String, Int)] = [
                [1, 2, 2, 3, 3, 4, 1]: ("efficientnet_lite0", 224), [1, 3, 3, 4, 4, 5, 1]: ("efficientnet_lite1", 240),
                [1, 3, 3, 5, 5, 6, 1]: ("efficientnet_lite3", 280),
                [1, 4, 4, 6, 6, 8, 1]: ("efficientnet_lite4", 300),
            ]
            guard let v = lite[perStage] else { return nil }
            // Lite1 and Lite2 share their depths; Lite2 is wider (its third stage 48 channels instead of 40)
            if v.0 == "efficientnet_lite1", (sd.tensors["blocks.2.0.conv_pwl.weight"]?.dim(0) ?? 0) == 48 {
                return ("efficientnet_lite2", 260)
            }
            return v
        default:
            let b: [[Int]: (String, Int)] = [[1, 2, 2, 3, 3, 4, 1]: ("efficientnet_b0", 224)]
            return b[perStage]
        }
    }
}
