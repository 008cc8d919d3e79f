import MLRCRuntime

/// torchvision's SqueezeNet 1.0 and 1.1: an unpadded stem convolution (`features.0`, 7x7 or 3x3, stride 2), Fire
/// modules (`features.i.squeeze`, then `expand1x1` and `expand3x3` concatenated; ReLU) with a 3x3 stride-2 ceil-mode
/// max pool at every index of `features` that holds no weights (after the stem's ReLU at 1), and a 1x1 classifier
/// convolution (`classifier.1`) with ReLU before the global mean.
enum SqueezeNetBuilder {
    static func build(_ sd: StateDict, options: BuildOptions) throws -> BuiltNetwork {
        let indices = ArchitectureRecognizer.indices(sd, prefix: "features.")
        let fires = Set(indices.filter { sd.has("features.\($0).squeeze.weight") })
        guard let last = fires.max(), sd.has("features.0.weight"), sd.has("classifier.1.weight") else {
            throw MLRCError.format(
                "SqueezeNet: expected features.0.weight, Fire modules features.i.squeeze.weight and "
                    + "classifier.1.weight; found features \(indices)")
        }
        let inputSize = options.inputSize ?? 224
        let b = GraphBuilder(squareInput: inputSize)
        var x = try b.torchConv(sd, 0, "features.0", bn: nil, stride: 2, act: .relu, padding: 0)
        for i in 2...last {
            guard fires.contains(i) else {
                x = try b.pool(x, max: true, kernel: 3, stride: 2, padding: 0, ceilMode: true)
                continue
            }
            let p = "features.\(i)."
            let s = try b.torchConv(sd, x, p + "squeeze", bn: nil, act: .relu)
            let e1 = try b.torchConv(sd, s, p + "expand1x1", bn: nil, act: .relu)
            let e3 = try b.torchConv(sd, s, p + "expand3x3", bn: nil, act: .relu)
            x = try b.concat([e1, e3])
        }
        x = try b.torchConv(sd, x, "classifier.1", bn: nil, act: .relu)
        let logits = b.globalAvgPool(x)
        let classes = b.shape(logits).channels
        let stem = try sd.tensor("features.0.weight")
        let name = stem.dim(2) == 7 ? "squeezenet1_0" : stem.dim(2) == 3 ? "squeezenet1_1" : "squeezenet_custom"
        let summary = "\(name): \(fires.count) Fire modules, \(classes) classes, input \(inputSize)"
        return BuiltNetwork(architecture: name, summary: summary, builder: b, output: logits, inputSize: inputSize)
    }
}
