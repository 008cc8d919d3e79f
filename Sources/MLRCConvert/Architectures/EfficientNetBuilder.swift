import MLRCRuntime

/// torchvision's EfficientNet B0-B7: a 3x3 SiLU stem (`features.0`), seven stages (`features.1` ... `features.7`)
/// of MBConv blocks (`features.s.j.block.k`: optional 1x1 expansion, depthwise with the stage's stride on its first
/// block, squeeze-and-excitation with SiLU and a sigmoid gate, 1x1 projection), a 1x1 SiLU head (`features.8`) and
/// the classifier. Stage strides 1, 2, 2, 2, 1, 2, 1; PyTorch padding; BatchNorm eps 1e-5 (1e-3 from B5 on).
enum EfficientNetBuilder {
    static let stageStrides = [1, 2, 2, 2, 1, 2, 1]
    /// (name, blocks, head width, crop, resize) of torchvision's variants and their weights' preprocessing.
    static let variants: [(name: String, blocks: Int, head: Int, crop: Int, resize: Int)] = [
        ("efficientnet_b0", 16, 1280, 224, 256), ("efficientnet_b1", 23, 1280, 240, 256),
        ("efficientnet_b2", 23, 1408, 288, 288), ("efficientnet_b3", 26, 1536, 300, 320),
        ("efficientnet_b4", 32, 1792, 380, 384), ("efficientnet_b5", 39, 2048, 456, 456),
        ("efficientnet_b6", 45, 2304, 528, 528), ("efficientnet_b7", 55, 2560, 600, 600),
    ]

    static func build(_ sd: StateDict, options: BuildOptions) throws -> BuiltNetwork {
        let stages = (1...7).map { ArchitectureRecognizer.count(sd, prefix: "features.\($0).") }
        guard stages.allSatisfy({ $0 > 0 }), sd.has("features.8.0.weight") else {
            throw MLRCError.format(
                "EfficientNet: expected features.1 ... features.7 (stages of blocks features.s.j.block.k) and a head "
                    + "features.8.0.weight; found blocks per stage \(stages)")
        }
        let total = stages.reduce(0, +), headWidth = try sd.tensor("features.8.0.weight").dim(0)
        let variant = variants.first { $0.blocks == total && $0.head == headWidth }
        let eps: Float = total >= 39 ? 1e-3 : 1e-5
        let inputSize = options.inputSize ?? variant?.crop ?? 224
        let b = GraphBuilder(squareInput: inputSize)
        var x = try b.torchConv(sd, 0, "features.0.0", bn: "features.0.1", stride: 2, act: .silu, eps: eps)
        for (s, n) in stages.enumerated() {
            for j in 0..<n {
                x = try b.invertedResidual(
                    sd, x, prefix: "features.\(s + 1).\(j).block.", stride: j == 0 ? stageStrides[s] : 1, act: .silu,
                    seAct: .silu, seGate: .sigmoid, eps: eps)
            }
        }
        x = try b.torchConv(sd, x, "features.8.0", bn: "features.8.1", act: .silu, eps: eps)
        x = b.globalAvgPool(x)
        let (logits, classes) = try b.classifier(sd, x, prefix: "classifier")
        let name = variant?.name ?? "efficientnet_custom"
        var pre = ArchitectureRecognizer.preprocessing(size: inputSize)
        if let variant, options.inputSize == nil { pre.resizeShorterSide = variant.resize }
        let summary = "\(name): blocks per stage \(stages), head \(headWidth), \(classes) classes, input \(inputSize)"
        return BuiltNetwork(
            architecture: name, summary: summary, builder: b, output: logits, numClasses: classes, preprocessing: pre)
    }
}
