import MLRCRuntime

/// torchvision's RegNet X and Y (400MF ... 32GF): a 3x3 stem (`stem`), stages (`trunk_output.blockS`, four in torchvision's sizes) of
/// residual bottleneck blocks (`blockS-j.f`: 1x1 `a`, grouped 3x3 `b` with the stride, in Y a squeeze-and-excitation
/// `se` with ReLU and a sigmoid gate, 1x1 `c`), the first of each stage with stride 2 and a 1x1 projection (`proj`);
/// ReLU after the residual add; global mean and `fc`.
enum RegNetBuilder {
    static func build(_ sd: StateDict, options: BuildOptions) throws -> BuiltNetwork {
        var stages: [Int] = []  // torchvision's RegNets have four stages; its RegNet class takes any number
        while true {
            let s = stages.count + 1
            let n = ArchitectureRecognizer.count(sd, prefix: "trunk_output.block\(s).block\(s)-")
            if n == 0 || s > 64 { break }
            stages.append(n)
        }
        guard !stages.isEmpty, sd.has("stem.0.weight") else {
            throw MLRCError.format(
                "RegNet: expected stem.0 and trunk_output.block1 ... block4 (blocks blockS-j.f.a.0.weight); "
                    + "found blocks per stage \(stages)")
        }
        let se = sd.has("trunk_output.block1.block1-0.f.se.fc1.weight")
        let inputSize = options.inputSize ?? 224
        let b = GraphBuilder(squareInput: inputSize)
        var x = try b.torchConv(sd, 0, "stem.0", bn: "stem.1", stride: 2, act: .relu)
        for (s, n) in stages.enumerated() {
            for j in 0..<n {
                let p = "trunk_output.block\(s + 1).block\(s + 1)-\(j)."
                let stride = j == 0 ? 2 : 1
                var y = try b.torchConv(sd, x, p + "f.a.0", bn: p + "f.a.1", act: .relu)
                y = try b.torchConv(sd, y, p + "f.b.0", bn: p + "f.b.1", stride: stride, act: .relu)
                if sd.has(p + "f.se.fc1.weight") {
                    y = try b.squeezeExcite(
                        sd, y, reduce: p + "f.se.fc1", expand: p + "f.se.fc2", act: .relu, gate: .sigmoid)
                }
                y = try b.torchConv(sd, y, p + "f.c.0", bn: p + "f.c.1")
                let shortcut =
                    sd.has(p + "proj.0.weight")
                    ? try b.torchConv(sd, x, p + "proj.0", bn: p + "proj.1", stride: stride) : x
                x = try b.add(y, shortcut, activation: .relu)
            }
        }
        x = b.globalAvgPool(x)
        let (logits, classes) = try b.classifier(sd, x, prefix: "fc")
        let widths = try (1...stages.count).map {
            try sd.tensor("trunk_output.block\($0).block\($0)-0.f.c.0.weight").dim(0)
        }
        // torchvision's sizes by stage widths (X: no SE, Y: SE)
        let known: [String: String] = [
            "X[32, 64, 160, 400]": "regnet_x_400mf",
            "X[64, 128, 288, 672]": "regnet_x_800mf", "X[72, 168, 408, 912]": "regnet_x_1_6gf",
            "X[96, 192, 432, 1008]": "regnet_x_3_2gf", "Y[48, 104, 208, 440]": "regnet_y_400mf",
            "Y[64, 144, 320, 784]": "regnet_y_800mf",
            "Y[48, 120, 336, 888]": "regnet_y_1_6gf", "Y[72, 216, 576, 1512]": "regnet_y_3_2gf",
        ]
        let name = known["\(se ? "Y" : "X")\(widths)"] ?? "regnet_\(se ? "y" : "x")_custom"
        let summary = "\(name): blocks per stage \(stages), widths \(widths), \(classes) classes, input \(inputSize)"
        return BuiltNetwork(architecture: name, summary: summary, builder: b, output: logits, inputSize: inputSize)
    }
}
