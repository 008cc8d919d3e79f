import MLRCRuntime

/// ResNet, ResNeXt, Wide ResNet (torchvision) and SE-ResNet (timm): a 7x7 stem and max pool, four stages of basic
/// (two 3x3) or bottleneck (1x1, grouped 3x3 with the stride, 1x1) blocks, the first block of stages 2-4 with
/// stride 2 and a strided 1x1 projection (`downsample`). timm's SE-ResNet gates each block's last BatchNorm output
/// (`se.fc1`, ReLU, `se.fc2`, sigmoid) before the residual add.
enum ResNetBuilder {
    static func build(_ sd: StateDict, options: BuildOptions) throws -> BuiltNetwork {
        let depths = (1...4).map { ArchitectureRecognizer.count(sd, prefix: "layer\($0).") }
        guard depths.allSatisfy({ $0 > 0 }) else {
            throw MLRCError.format(
                "ResNet: found blocks per stage \(depths) (parameters layer1.0. ... layer4.0.); every stage needs one")
        }
        let bottleneck = sd.has("layer1.0.conv3.weight")
        let se = sd.has("layer1.0.se.fc1.weight")
        let inputSize = options.inputSize ?? 224
        let b = GraphBuilder(squareInput: inputSize)
        var x = try b.torchConv(sd, 0, "conv1", bn: "bn1", stride: 2, act: .relu)
        x = try b.pool(x, max: true, kernel: 3, stride: 2, padding: 1)
        for stage in 0..<4 {
            for i in 0..<depths[stage] {
                let p = "layer\(stage + 1).\(i)."
                let stride = i == 0 && stage > 0 ? 2 : 1
                let input = x
                var y: Int
                if bottleneck {
                    y = try b.torchConv(sd, x, p + "conv1", bn: p + "bn1", act: .relu)
                    y = try b.torchConv(sd, y, p + "conv2", bn: p + "bn2", stride: stride, act: .relu)
                    y = try b.torchConv(sd, y, p + "conv3", bn: p + "bn3")
                } else {
                    y = try b.torchConv(sd, x, p + "conv1", bn: p + "bn1", stride: stride, act: .relu)
                    y = try b.torchConv(sd, y, p + "conv2", bn: p + "bn2")
                }
                if se {
                    y = try b.squeezeExcite(
                        sd, y, reduce: p + "se.fc1", expand: p + "se.fc2", act: .relu, gate: .sigmoid)
                }
                let shortcut =
                    sd.has(p + "downsample.0.weight")
                    ? try b.torchConv(sd, input, p + "downsample.0", bn: p + "downsample.1", stride: stride)
                    : input
                x = try b.add(y, shortcut, activation: .relu)
            }
        }
        x = b.globalAvgPool(x)
        let (logits, classes) = try b.classifier(sd, x, prefix: "fc")
        let width = try sd.tensor("layer1.0.conv2.weight")
        let groups = width.dim(0) / max(width.dim(1), 1)
        let name = variantName(depths: depths, bottleneck: bottleneck, se: se, groups: groups, width: width.dim(0))
        let summary =
            "\(name): \(bottleneck ? "bottleneck" : "basic") blocks \(depths)\(groups > 1 ? ", \(groups) groups" : "")"
            + "\(se ? ", squeeze-and-excitation" : ""), \(classes) classes, input \(inputSize)"
        return BuiltNetwork(architecture: name, summary: summary, builder: b, output: logits, inputSize: inputSize)
    }

    static func variantName(depths: [Int], bottleneck: Bool, se: Bool, groups: Int, width: Int) -> String {
        let layers: [[Int]: Int] = [[2, 2, 2, 2]: 18, [3, 4, 6, 3]: 34, [3, 4, 23, 3]: 101, [3, 8, 36, 3]: 152]
        let custom = se ? "seresnet_custom" : groups > 1 ? "resnext_custom" : "resnet_custom"
        guard var n = layers[depths] else { return custom }
        if bottleneck && n == 34 { n = 50 }
        if !bottleneck && n != 18 && n != 34 { return custom }
        if se { return "seresnet\(n)" }
        if groups > 1 { return "resnext\(n)_\(groups)x\(width / groups)d" }
        if bottleneck && width == 128 { return "wide_resnet\(n)_2" }
        return "resnet\(n)"
    }
}
