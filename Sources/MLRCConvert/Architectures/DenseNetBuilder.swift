import MLRCRuntime

/// torchvision's DenseNet 121/161/169/201: a 7x7 stem with BatchNorm, ReLU and max pool; four dense blocks whose
/// layers each read the concatenation of everything before them in the block (BatchNorm and ReLU on it, a 1x1
/// bottleneck with its BatchNorm folded, a 3x3 producing `growth` channels); transitions (BatchNorm, ReLU, 1x1,
/// 2x2 average pool) between blocks; a last BatchNorm, ReLU, global mean and the classifier. The BatchNorms in
/// front of a concatenation cannot fold into a convolution: they run as a per-channel affine with the ReLU.
enum DenseNetBuilder {
    static func build(_ sd: StateDict, options: BuildOptions) throws -> BuiltNetwork {
        let blocks = (1...4).map {
            ArchitectureRecognizer.count(sd, prefix: "features.denseblock\($0).denselayer", from: 1)
        }
        guard blocks.allSatisfy({ $0 > 0 }), sd.has("features.conv0.weight"), sd.has("features.norm5.running_mean")
        else {
            throw MLRCError.format(
                "DenseNet: expected features.conv0, features.denseblock1 ... denseblock4 (layers denselayer1 ...), "
                    + "features.transition1 ... transition3 and features.norm5; found layers per block \(blocks)")
        }
        let inputSize = options.inputSize ?? 224
        let b = GraphBuilder(squareInput: inputSize)
        var x = try b.torchConv(sd, 0, "features.conv0", bn: "features.norm0", stride: 2, act: .relu)
        x = try b.pool(x, max: true, kernel: 3, stride: 2, padding: 1)
        for (blk, n) in blocks.enumerated() {
            for l in 1...n {
                let p = "features.denseblock\(blk + 1).denselayer\(l)."
                var y = try affineBN(b, sd, x, p + "norm1", act: .relu)
                y = try b.torchConv(sd, y, p + "conv1", bn: p + "norm2", act: .relu)
                y = try b.torchConv(sd, y, p + "conv2", bn: nil)
                x = try b.concat([x, y])
            }
            if blk < 3 {
                let p = "features.transition\(blk + 1)."
                x = try affineBN(b, sd, x, p + "norm", act: .relu)
                x = try b.torchConv(sd, x, p + "conv", bn: nil)
                x = try b.pool(x, max: false, kernel: 2, stride: 2, padding: 0)
            }
        }
        x = try affineBN(b, sd, x, "features.norm5", act: .relu)
        x = b.globalAvgPool(x)
        let (logits, classes) = try b.classifier(sd, x, prefix: "classifier")
        let names: [[Int]: String] = [
            [6, 12, 24, 16]: "densenet121", [6, 12, 36, 24]: "densenet161", [6, 12, 32, 32]: "densenet169",
            [6, 12, 48, 32]: "densenet201",
        ]
        let name = names[blocks] ?? "densenet_custom"
        let summary = "\(name): layers per block \(blocks), \(classes) classes, input \(inputSize)"
        return BuiltNetwork(architecture: name, summary: summary, builder: b, output: logits, inputSize: inputSize)
    }

    static func affineBN(_ b: GraphBuilder, _ sd: StateDict, _ x: Int, _ bn: String, act: Activation) throws -> Int {
        let n = try BatchNorm(sd, bn, eps: 1e-5)
        return try b.channelAffine(x, scale: n.scale, shift: n.shift, activation: act)
    }
}
