import MLRCRuntime

/// torchvision's MobileNetV2 (any width multiplier): a 3x3 stem, 17 inverted residual blocks (`features.1` ...
/// `features.17`: 1x1 expansion, 3x3 depthwise, 1x1 projection; ReLU6), a 1x1 head to 1280 (`features.18`) and
/// the classifier. Strides are not stored: the blocks fall in the paper's seven stages of 1, 2, 3, 4, 3, 3, 1
/// blocks with strides 1, 2, 2, 2, 1, 2, 1 (stage starts are found where the width changes for other block counts).
enum MobileNetV2Builder {
    static let stageBlocks = [1, 2, 3, 4, 3, 3, 1]
    static let stageStrides = [1, 2, 2, 2, 1, 2, 1]

    static func build(_ sd: StateDict, options: BuildOptions) throws -> BuiltNetwork {
        let features = ArchitectureRecognizer.indices(sd, prefix: "features.")
        let blocks = features.filter { sd.has("features.\($0).conv.0.0.weight") }
        guard !blocks.isEmpty, blocks == Array(1...blocks.count), let head = features.last, head == blocks.count + 1
        else {
            throw MLRCError.format(
                "MobileNetV2: expected features.0 (stem), features.1 ... features.N (blocks with conv.0.0.weight) and "
                    + "a head features.N+1; found features \(features)")
        }
        let outs = try blocks.map { i -> Int in
            let last = sd.has("features.\(i).conv.3.running_mean") ? "conv.2" : "conv.1"
            return try sd.tensor("features.\(i).\(last).weight").dim(0)
        }
        let firsts = stageStarts(outs)
        let inputSize = options.inputSize ?? 224
        let b = GraphBuilder(squareInput: inputSize)
        var x = try b.torchConv(sd, 0, "features.0.0", bn: "features.0.1", stride: 2, act: .relu6)
        for (n, i) in blocks.enumerated() {
            let p = "features.\(i).conv."
            let stride = firsts[n].map { stageStrides[$0] } ?? 1
            let input = x
            if sd.has(p + "3.running_mean") {  // expansion, depthwise, projection
                x = try b.torchConv(sd, x, p + "0.0", bn: p + "0.1", act: .relu6)
                x = try b.torchConv(sd, x, p + "1.0", bn: p + "1.1", stride: stride, act: .relu6)
                x = try b.torchConv(sd, x, p + "2", bn: p + "3")
            } else {  // expansion 1: depthwise, projection
                x = try b.torchConv(sd, x, p + "0.0", bn: p + "0.1", stride: stride, act: .relu6)
                x = try b.torchConv(sd, x, p + "1", bn: p + "2")
            }
            if stride == 1 && b.shape(input) == b.shape(x) { x = try b.add(x, input) }
        }
        x = try b.torchConv(sd, x, "features.\(head).0", bn: "features.\(head).1", act: .relu6)
        x = b.globalAvgPool(x)
        let (logits, classes) = try b.classifier(sd, x, prefix: "classifier")
        let stem = try sd.tensor("features.0.0.weight").dim(0)
        let summary =
            "mobilenet_v2: \(blocks.count) inverted residual blocks, stem \(stem), widths \(Array(Set(outs)).sorted()), "
            + "\(classes) classes, input \(inputSize)"
        return BuiltNetwork(
            architecture: "mobilenet_v2", summary: summary, builder: b, output: logits, inputSize: inputSize)
    }

    /// For each block, the stage it starts (nil inside a stage): by the standard block counts when there are 17
    /// blocks, else where the output width changes.
    static func stageStarts(_ outs: [Int]) -> [Int?] {
        var starts = [Int?](repeating: nil, count: outs.count)
        if outs.count == stageBlocks.reduce(0, +) {
            var i = 0
            for (s, n) in stageBlocks.enumerated() { starts[i] = s; i += n }
            return starts
        }
        var stage = -1
        for (i, c) in outs.enumerated() where i == 0 || c != outs[i - 1] {
            stage += 1
            starts[i] = min(stage, stageStrides.count - 1)
        }
        return starts
    }
}
