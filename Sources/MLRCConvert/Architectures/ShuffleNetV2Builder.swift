import MLRCRuntime

/// torchvision's ShuffleNetV2 (x0.5 ... x2.0): a 3x3 stem and max pool, three stages (`stage2` ... `stage4`) whose
/// first block (stride 2) runs two branches on its whole input and whose other blocks split the channels in half,
/// transform the second half (`branch2`: 1x1, depthwise 3x3, 1x1) and concatenate; every block ends with a channel
/// shuffle of two groups. Then a 1x1 head (`conv5`), the global mean and `fc`.
enum ShuffleNetV2Builder {
    static func build(_ sd: StateDict, options: BuildOptions) throws -> BuiltNetwork {
        let stages = (2...4).map { ArchitectureRecognizer.count(sd, prefix: "stage\($0).") }
        guard stages.allSatisfy({ $0 > 0 }), sd.has("stage2.0.branch1.0.weight"), sd.has("conv5.0.weight") else {
            throw MLRCError.format(
                "ShuffleNetV2: expected conv1.0, stage2 ... stage4 (blocks stageN.j.branch2, the first with branch1) "
                    + "and conv5.0; found blocks per stage \(stages)")
        }
        let inputSize = options.inputSize ?? 224
        let b = GraphBuilder(squareInput: inputSize)
        var x = try b.torchConv(sd, 0, "conv1.0", bn: "conv1.1", stride: 2, act: .relu)
        x = try b.pool(x, max: true, kernel: 3, stride: 2, padding: 1)
        for (s, n) in stages.enumerated() {
            for j in 0..<n {
                let p = "stage\(s + 2).\(j)."
                let down = sd.has(p + "branch1.0.weight")
                var left: Int, right: Int
                if down {
                    left = try b.torchConv(sd, x, p + "branch1.0", bn: p + "branch1.1", stride: 2)
                    left = try b.torchConv(sd, left, p + "branch1.2", bn: p + "branch1.3", act: .relu)
                    right = x
                } else {
                    let half = b.shape(x).channels / 2
                    left = try b.slice(x, offset: 0, count: half)
                    right = try b.slice(x, offset: half, count: b.shape(x).channels - half)
                }
                right = try b.torchConv(sd, right, p + "branch2.0", bn: p + "branch2.1", act: .relu)
                right = try b.torchConv(sd, right, p + "branch2.3", bn: p + "branch2.4", stride: down ? 2 : 1)
                right = try b.torchConv(sd, right, p + "branch2.5", bn: p + "branch2.6", act: .relu)
                x = try b.channelShuffle(try b.concat([left, right]), groups: 2)
            }
        }
        x = try b.torchConv(sd, x, "conv5.0", bn: "conv5.1", act: .relu)
        x = b.globalAvgPool(x)
        let (logits, classes) = try b.classifier(sd, x, prefix: "fc")
        let stage2 = try sd.tensor("stage2.0.branch1.2.weight").dim(0) * 2
        let sizes: [Int: String] = [
            48: "shufflenet_v2_x0_5", 116: "shufflenet_v2_x1_0", 176: "shufflenet_v2_x1_5", 244: "shufflenet_v2_x2_0",
        ]
        let name = sizes[stage2] ?? "shufflenet_v2_custom"
        let summary =
            "\(name): blocks per stage \(stages), stage-2 width \(stage2), \(classes) classes, input \(inputSize)"
        return BuiltNetwork(architecture: name, summary: summary, builder: b, output: logits, inputSize: inputSize)
    }
}
