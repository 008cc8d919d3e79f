import MLRCRuntime

/// torchvision's MobileNetV3 Small and Large (any width multiplier): a 3x3 hardswish stem, inverted residual
/// blocks (`features.i.block.k`: optional 1x1 expansion, depthwise, optional squeeze-and-excitation with a
/// hardsigmoid gate, 1x1 projection), a 1x1 hardswish head, then Linear, hardswish, Linear. Neither strides nor
/// activations are stored: they come from the paper's block tables, chosen by the block count (11: Small, 15:
/// Large) and checked against the stored kernel sizes. BatchNorm eps 1e-3.
enum MobileNetV3Builder {
    struct Variant {
        let name: String
        let kernels: [Int]
        let strides: [Int]
        let firstHardswish: Int  // blocks from here on use hardswish, before it ReLU
    }
    static let large = Variant(
        name: "mobilenet_v3_large", kernels: [3, 3, 3, 5, 5, 5, 3, 3, 3, 3, 3, 3, 5, 5, 5],
        strides: [1, 2, 1, 2, 1, 1, 2, 1, 1, 1, 1, 1, 2, 1, 1], firstHardswish: 6)
    static let small = Variant(
        name: "mobilenet_v3_small", kernels: [3, 3, 3, 5, 5, 5, 5, 5, 5, 5, 5],
        strides: [2, 2, 1, 2, 1, 1, 1, 1, 2, 1, 1], firstHardswish: 3)
    static let eps: Float = 1e-3

    static func build(_ sd: StateDict, options: BuildOptions) throws -> BuiltNetwork {
        let features = ArchitectureRecognizer.indices(sd, prefix: "features.")
        let blocks = features.filter { sd.has("features.\($0).block.0.0.weight") }
        guard let variant = [large, small].first(where: { $0.strides.count == blocks.count }),
            blocks == Array(1...blocks.count), let head = features.last, head == blocks.count + 1
        else {
            throw MLRCError.format(
                "MobileNetV3: expected features.1 ... features.11 (Small) or features.15 (Large) with "
                    + "block.0.0.weight, and a head after them; found \(blocks.count) blocks in features \(features)")
        }
        let inputSize = options.inputSize ?? 224
        let b = GraphBuilder(squareInput: inputSize)
        var x = try b.torchConv(sd, 0, "features.0.0", bn: "features.0.1", stride: 2, act: .hardswish, eps: eps)
        for (n, i) in blocks.enumerated() {
            x = try b.invertedResidual(
                sd, x, prefix: "features.\(i).block.", stride: variant.strides[n],
                act: n >= variant.firstHardswish ? .hardswish : .relu, seAct: .relu, seGate: .hardsigmoid, eps: eps,
                depthwiseKernel: variant.kernels[n])
        }
        x = try b.torchConv(sd, x, "features.\(head).0", bn: "features.\(head).1", act: .hardswish, eps: eps)
        x = b.globalAvgPool(x)
        let (logits, classes) = try b.classifier(sd, x, prefix: "classifier", between: .hardswish)
        let summary = "\(variant.name): \(blocks.count) blocks, \(classes) classes, input \(inputSize)"
        return BuiltNetwork(
            architecture: variant.name, summary: summary, builder: b, output: logits, inputSize: inputSize)
    }
}
