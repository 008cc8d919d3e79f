import MLRCRuntime

/// timm's GhostNet (ghostnet_050 / 100 / 130): a 3x3 stem (`conv_stem`, `bn1`), Ghost bottlenecks
/// (`blocks.s.j`: Ghost module `ghost1` with ReLU, a strided depthwise `conv_dw` where the block downsamples,
/// squeeze-and-excitation `se` with a hardsigmoid gate, Ghost module `ghost2` without activation, and a
/// shortcut that is the identity or a depthwise + 1x1 projection), a 1x1 ConvBnAct (`blocks.9`), then the global
/// mean, `conv_head` (1x1 with bias) with ReLU, and the classifier. A Ghost module is a 1x1 `primary_conv` whose
/// output and its depthwise `cheap_operation` are concatenated and cut to the module's width.
enum GhostNetBuilder {
    static func build(_ sd: StateDict, options: BuildOptions) throws -> BuiltNetwork {
        let stages = ArchitectureRecognizer.count(sd, prefix: "blocks.")
        guard stages >= 2, sd.has("conv_stem.weight"), sd.has("conv_head.weight") else {
            throw MLRCError.format(
                "GhostNet: expected conv_stem, blocks.s.j.ghost1.primary_conv.0.weight ... and conv_head; "
                    + "found \(stages) stages")
        }
        let inputSize = options.inputSize ?? 224
        let b = GraphBuilder(squareInput: inputSize)
        var x = try b.torchConv(sd, 0, "conv_stem", bn: "bn1", stride: 2, act: .relu)
        var blocks = 0
        for s in 0..<stages {
            for j in 0..<ArchitectureRecognizer.count(sd, prefix: "blocks.\(s).") {
                let p = "blocks.\(s).\(j)."
                if !sd.has(p + "ghost1.primary_conv.0.weight") {  // the last stage: one 1x1 ConvBnAct
                    x = try b.torchConv(sd, x, p + "conv", bn: p + "bn1", act: .relu)
                    continue
                }
                blocks += 1
                let input = x
                let mid = try sd.tensor(p + "ghost2.primary_conv.0.weight").dim(1)
                let out =
                    sd.has(p + "shortcut.2.weight")
                    ? try sd.tensor(p + "shortcut.2.weight").dim(0) : b.shape(input).channels
                var y = try ghost(b, sd, x, p + "ghost1", width: mid, act: .relu)
                var stride = 1
                if sd.has(p + "conv_dw.weight") {
                    stride = 2
                    y = try b.torchConv(sd, y, p + "conv_dw", bn: p + "bn_dw", stride: stride)
                }
                if sd.has(p + "se.conv_reduce.weight") {
                    y = try b.squeezeExcite(
                        sd, y, reduce: p + "se.conv_reduce", expand: p + "se.conv_expand", act: .relu,
                        gate: .hardsigmoid)
                }
                y = try ghost(b, sd, y, p + "ghost2", width: out, act: .none)
                var shortcut = input
                if sd.has(p + "shortcut.0.weight") {
                    shortcut = try b.torchConv(sd, input, p + "shortcut.0", bn: p + "shortcut.1", stride: stride)
                    shortcut = try b.torchConv(sd, shortcut, p + "shortcut.2", bn: p + "shortcut.3")
                }
                x = try b.add(y, shortcut)
            }
        }
        x = b.globalAvgPool(x)
        x = try b.linear(
            x, weight: sd.tensor("conv_head.weight"), bias: sd.optionalVector("conv_head.bias"), activation: .relu,
            name: "conv_head")
        let (logits, classes) = try b.classifier(sd, x, prefix: "classifier")
        let stem = try sd.tensor("conv_stem.weight").dim(0)
        let names = [8: "ghostnet_050", 16: "ghostnet_100", 20: "ghostnet_130"]
        let name = names[stem] ?? "ghostnet_custom"
        let summary = "\(name): \(blocks) Ghost bottlenecks, stem \(stem), \(classes) classes, input \(inputSize)"
        return BuiltNetwork(architecture: name, summary: summary, builder: b, output: logits, inputSize: inputSize)
    }

    /// The Ghost module at `p`: primary 1x1 and its depthwise, concatenated and cut to `width` (timm rounds the
    /// primary width up to half the module's; the width is not stored, so it comes from the layer that reads it).
    static func ghost(
        _ b: GraphBuilder, _ sd: StateDict, _ x: Int, _ p: String, width: Int, act: Activation
    ) throws -> Int {
        let primary = try b.torchConv(sd, x, p + ".primary_conv.0", bn: p + ".primary_conv.1", act: act)
        let cheap = try b.torchConv(sd, primary, p + ".cheap_operation.0", bn: p + ".cheap_operation.1", act: act)
        return try b.slice(try b.concat([primary, cheap]), offset: 0, count: width)
    }
}
