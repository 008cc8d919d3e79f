import MLRCRuntime

/// torchvision's MnasNet (0.5, 0.75, 1.0, 1.3): a 3x3 stem and a depthwise separable block (`layers.0` ... `layers.7`),
/// six stacks of inverted residual blocks (`layers.8` ... `layers.13`, each `layers.S.j.layers.{0,3,6}` with
/// BatchNorms at 1, 4, 7; ReLU) with strides 2, 2, 2, 1, 2, 1 on their first blocks, a 1x1 head to 1280
/// (`layers.14`) and the classifier.
enum MnasNetBuilder {
    static let stackStrides = [2, 2, 2, 1, 2, 1]

    static func build(_ sd: StateDict, options: BuildOptions) throws -> BuiltNetwork {
        let stacks = (8...13).map { ArchitectureRecognizer.count(sd, prefix: "layers.\($0).") }
        guard stacks.allSatisfy({ $0 > 0 }), sd.has("layers.14.weight"), sd.has("layers.6.weight") else {
            throw MLRCError.format(
                "MnasNet: expected layers.0 ... layers.7 (stem), stacks layers.8 ... layers.13 (blocks "
                    + "layers.S.j.layers.0.weight) and a head layers.14.weight; found blocks per stack \(stacks)")
        }
        let inputSize = options.inputSize ?? 224
        let b = GraphBuilder(squareInput: inputSize)
        var x = try b.torchConv(sd, 0, "layers.0", bn: "layers.1", stride: 2, act: .relu)
        x = try b.torchConv(sd, x, "layers.3", bn: "layers.4", act: .relu)
        x = try b.torchConv(sd, x, "layers.6", bn: "layers.7")
        for (s, n) in stacks.enumerated() {
            for j in 0..<n {
                let p = "layers.\(s + 8).\(j).layers."
                let stride = j == 0 ? stackStrides[s] : 1
                let input = x
                x = try b.torchConv(sd, x, p + "0", bn: p + "1", act: .relu)
                x = try b.torchConv(sd, x, p + "3", bn: p + "4", stride: stride, act: .relu)
                x = try b.torchConv(sd, x, p + "6", bn: p + "7")
                if stride == 1 && b.shape(input) == b.shape(x) { x = try b.add(x, input) }
            }
        }
        x = try b.torchConv(sd, x, "layers.14", bn: "layers.15", act: .relu)
        x = b.globalAvgPool(x)
        let (logits, classes) = try b.classifier(sd, x, prefix: "classifier")
        let stem = try sd.tensor("layers.0.weight").dim(0)
        let alphas: [Int: String] = [16: "mnasnet0_5", 24: "mnasnet0_75", 32: "mnasnet1_0", 40: "mnasnet1_3"]
        let name = alphas[stem] ?? "mnasnet_custom"
        let summary = "\(name): blocks per stack \(stacks), stem \(stem), \(classes) classes, input \(inputSize)"
        return BuiltNetwork(architecture: name, summary: summary, builder: b, output: logits, inputSize: inputSize)
    }
}
