import MLRCRuntime

/// torchvision's VGG 11/13/16/19, with and without BatchNorm: 3x3 convolutions (`features.i`, ReLU, a BatchNorm at
/// i + 1 in the _bn variants) with a 2x2 max pool wherever `features` skips an index, and after the last; the 7x7
/// adaptive average pool; then Linears with ReLU between. The first Linear reads the flattened 7x7 map, which is a
/// 7x7 convolution over it (its weight [out, C*7*7] is PyTorch's [out, C, 7, 7]).
enum VGGBuilder {
    static func build(_ sd: StateDict, options: BuildOptions) throws -> BuiltNetwork {
        let convs = ArchitectureRecognizer.indices(sd, prefix: "features.").filter {
            sd.tensors["features.\($0).weight"]?.rank == 4
        }
        let layers = ArchitectureRecognizer.linearLayers(sd, prefix: "classifier")
        guard !convs.isEmpty, !layers.isEmpty else {
            throw MLRCError.format("VGG: expected convolutions features.i.weight and Linears classifier.N.weight")
        }
        let batchNorm = sd.has("features.\(convs[0] + 1).running_mean")
        let inputSize = options.inputSize ?? 224
        let b = GraphBuilder(squareInput: inputSize)
        var x = 0
        for (n, i) in convs.enumerated() {
            x = try b.torchConv(sd, x, "features.\(i)", bn: batchNorm ? "features.\(i + 1)" : nil, act: .relu)
            let relu = i + (batchNorm ? 2 : 1)
            if n == convs.count - 1 || convs[n + 1] > relu + 1 {
                x = try b.pool(x, max: true, kernel: 2, stride: 2, padding: 0)
            }
        }
        let s = b.shape(x)
        if s.height != 7 || s.width != 7 {  // AdaptiveAvgPool2d((7, 7)) where it is a plain average pool
            guard s.height == s.width, s.height % 7 == 0 else {
                throw MLRCError.format("VGG: a \(s) feature map does not pool evenly to 7x7 (use a 224x224 input)")
            }
            x = try b.pool(x, max: false, kernel: s.height / 7, stride: s.height / 7, padding: 0)
        }
        let first = try sd.tensor(layers[0] + ".weight")
        guard first.rank == 2, first.dim(1) == b.shape(x).count else {
            throw MLRCError.format("VGG: \(layers[0]).weight \(first.shape) does not read a \(b.shape(x)) map")
        }
        let w = HostTensor(shape: [first.dim(0), b.shape(x).channels, 7, 7], data: first.data)
        x = try b.conv(
            x, weight: w, bias: sd.optionalVector(layers[0] + ".bias"), padding: .symmetric(0, 0),
            activation: layers.count > 1 ? .relu : .none, name: layers[0])
        for (n, name) in layers.enumerated().dropFirst() {
            x = try b.linear(
                x, weight: sd.tensor(name + ".weight"), bias: sd.optionalVector(name + ".bias"),
                activation: n == layers.count - 1 ? .none : .relu, name: name)
        }
        let classes = b.shape(x).channels
        let depth = convs.count + 3
        let name = [11, 13, 16, 19].contains(depth) ? "vgg\(depth)\(batchNorm ? "_bn" : "")" : "vgg_custom"
        let summary =
            "\(name): \(convs.count) convolutions, \(layers.count) Linears, \(classes) classes, input \(inputSize)"
        return BuiltNetwork(architecture: name, summary: summary, builder: b, output: x, inputSize: inputSize)
    }
}
