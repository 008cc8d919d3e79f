import MLRCRuntime

/// ConvNeXt (official facebookresearch naming) and the paper's MLRC-ConvNeXt: strip depthwise convs
/// (dwconv_v k x 1, GELU, dwconv_h 1 x k) and a shortcut around every stage.
enum ConvNeXtBuilder {
    static let sizes: [(String, [Int], [Int])] = [
        ("atto", [2, 2, 6, 2], [40, 80, 160, 320]), ("femto", [2, 2, 6, 2], [48, 96, 192, 384]),
        ("pico", [2, 2, 6, 2], [64, 128, 256, 512]), ("nano", [2, 2, 8, 2], [80, 160, 320, 640]),
        ("tiny", [3, 3, 9, 3], [96, 192, 384, 768]), ("small", [3, 3, 27, 3], [96, 192, 384, 768]),
        ("base", [3, 3, 27, 3], [128, 256, 512, 1024]),
    ]

    static func build(_ sd0: StateDict, options: BuildOptions, mlrc: Bool) throws -> BuiltNetwork {
        let sd = TimmConvNeXtNames.toOfficial(TorchvisionConvNeXtNames.toOfficial(sd0))
        let depths = (0..<4).map { ArchitectureRecognizer.count(sd, prefix: "stages.\($0).") }
        guard depths.allSatisfy({ $0 > 0 }) else {
            throw MLRCError.format("ConvNeXt: expected 4 stages, found depths \(depths)")
        }
        let dims = try (0..<4).map { try sd.tensor("stages.\($0).0.norm.weight").count }
        let head = try sd.tensor("head.weight")
        let classes = head.dim(0)
        let strip = sd.has("stages.0.0.dwconv_v.weight")
        let stripK = strip ? try sd.tensor("stages.0.0.dwconv_v.weight").dim(2) : 0
        let isMLRC = mlrc || strip
        let shortcut = options.stageShortcut ?? isMLRC
        let size = sizes.first { $0.1 == depths && $0.2 == dims }?.0 ?? "custom"
        let family = isMLRC ? "mlrc_convnext" : "convnext"
        let inputSize = options.inputSize ?? 224
        guard inputSize % 32 == 0, inputSize >= 32 else {
            throw MLRCError.argument("ConvNeXt needs an input size that is a multiple of 32")
        }

        let b = GraphBuilder(squareInput: inputSize)
        var x = 0
        for i in 0..<4 {
            var s: Int
            let p = "downsample_layers.\(i)."
            if i == 0 {
                s = try b.conv(
                    x, weight: sd.tensor(p + "0.weight"), bias: sd.vector(p + "0.bias"), stride: (4, 4),
                    padding: .symmetric(0, 0), name: p + "0")
                s = try b.layerNorm(
                    s, gamma: try sd.vector(p + "1.weight"), beta: try sd.vector(p + "1.bias"), eps: 1e-6)
            } else {
                s = try b.layerNorm(
                    x, gamma: try sd.vector(p + "0.weight"), beta: try sd.vector(p + "0.bias"), eps: 1e-6)
                s = try b.conv(
                    s, weight: sd.tensor(p + "1.weight"), bias: sd.vector(p + "1.bias"), stride: (2, 2),
                    padding: .symmetric(0, 0), name: p + "1")
            }
            var y = s
            for j in 0..<depths[i] { y = try block(b, sd, "stages.\(i).\(j).", y) }
            x = shortcut ? try b.add(y, s) : y
        }
        x = b.globalAvgPool(x)
        x = try b.layerNorm(x, gamma: nil, beta: nil, eps: 1e-6)
        let (hw, hb) = try foldInputAffine(
            head, bias: try sd.vector("head.bias"), gamma: try sd.vector("norm.weight"),
            beta: try sd.vector("norm.bias"))
        x = try b.linear(x, weight: hw, bias: hb, name: "head")

        let name = "\(family)_\(size)"
        let conv = strip ? "strip \(stripK)x1/1x\(stripK) depthwise" : "7x7 depthwise"
        let summary =
            "\(name): depths \(depths), dims \(dims), \(conv), stage shortcut \(shortcut ? "on" : "off"), \(classes) classes, input \(inputSize)"
        return BuiltNetwork(architecture: name, summary: summary, builder: b, output: x, inputSize: inputSize)
    }

    /// One block: depthwise (or strip) conv, LayerNorm, pwconv1 + GELU, pwconv2 * gamma, residual add.
    static func block(_ b: GraphBuilder, _ sd: StateDict, _ p: String, _ x: Int) throws -> Int {
        var y: Int
        if sd.has(p + "dwconv_v.weight") {
            let v = try sd.tensor(p + "dwconv_v.weight"), h = try sd.tensor(p + "dwconv_h.weight")
            y = try b.conv(
                x, weight: v, bias: sd.optionalVector(p + "dwconv_v.bias"), padding: .symmetric(v.dim(2) / 2, 0),
                groups: v.dim(0), activation: .gelu, name: p + "dwconv_v")
            y = try b.conv(
                y, weight: h, bias: sd.optionalVector(p + "dwconv_h.bias"), padding: .symmetric(0, h.dim(3) / 2),
                groups: h.dim(0), name: p + "dwconv_h")
        } else {
            let w = try sd.tensor(p + "dwconv.weight")
            y = try b.conv(
                x, weight: w, bias: sd.optionalVector(p + "dwconv.bias"),
                padding: .symmetric(w.dim(2) / 2, w.dim(3) / 2), groups: w.dim(0), name: p + "dwconv")
        }
        y = try b.layerNorm(y, gamma: nil, beta: nil, eps: 1e-6)
        let (w1, b1) = try foldInputAffine(
            try sd.tensor(p + "pwconv1.weight"), bias: try sd.vector(p + "pwconv1.bias"),
            gamma: try sd.vector(p + "norm.weight"), beta: try sd.vector(p + "norm.bias"))
        y = try b.linear4(y, weight: w1, bias: b1, activation: .gelu, name: p + "pwconv1")
        var w2 = try sd.tensor(p + "pwconv2.weight")
        var b2 = try sd.vector(p + "pwconv2.bias")
        if let gamma = sd.optionalVector(p + "gamma") {
            w2 = try scaleOutputChannels(w2, gamma)
            b2 = zip(b2, gamma).map { $0 * $1 }
        }
        y = try b.linear4(y, weight: w2, bias: b2, name: p + "pwconv2")
        return try b.add(x, y)
    }
}

extension GraphBuilder {
    /// A Linear [out, in] applied at every pixel (channels-last MLP): a 1x1 convolution.
    func linear4(
        _ x: Int, weight w: HostTensor, bias: [Float], activation: Activation = .none,
        name: String? = nil
    ) throws -> Int {
        try conv(
            x, weight: HostTensor(shape: [w.dim(0), w.dim(1), 1, 1], data: w.data), bias: bias,
            padding: .symmetric(0, 0), activation: activation, name: name)
    }
}

/// timm names the same ConvNeXt differently; map them onto the official names.
enum TimmConvNeXtNames {
    /// Block submodule names: timm's -> official.
    static let blockParts = [["conv_dw"]: "dwconv", ["mlp", "fc1"]: "pwconv1", ["mlp", "fc2"]: "pwconv2"]

    static func toOfficial(_ sd: StateDict) -> StateDict {
        guard sd.has("stem.0.weight"), !sd.has("downsample_layers.0.0.weight") else { return sd }
        var out: [String: HostTensor] = [:]
        for (name, t) in sd.tensors {
            let o = official(name)
            // timm's conv_mlp layout (convnext_atto ... nano) stores the MLP as 1x1 convolutions [out, in, 1, 1]
            let pointwise = o.hasSuffix("pwconv1.weight") || o.hasSuffix("pwconv2.weight")
            if pointwise && t.rank == 4 && t.dim(2) == 1 && t.dim(3) == 1 {
                out[o] = HostTensor(shape: [t.dim(0), t.dim(1)], data: t.data)
            } else {
                out[o] = t
            }
        }
        return StateDict(tensors: out, origin: sd.origin)
    }

    static func official(_ name: String) -> String {
        var p = name.split(separator: ".").map(String.init)
        switch p.first {
        case "stem": p[0] = "downsample_layers.0"
        case "head" where p.count == 3 && p[1] == "norm": p = ["norm", p[2]]
        case "head" where p.count == 3 && p[1] == "fc": p = ["head", p[2]]
        case "stages" where p.count >= 4 && p[2] == "downsample":
            p = ["downsample_layers", p[1]] + p[3...]
        case "stages" where p.count >= 5 && p[2] == "blocks":
            var rest = Array(p[4...])
            for (timm, official) in blockParts where rest.starts(with: timm) {
                rest = [official] + rest.dropFirst(timm.count)
            }
            p = ["stages", p[1], p[3]] + rest
        default: break
        }
        return p.joined(separator: ".")
    }
}

/// torchvision's ConvNeXt (`features.0` stem, `features.1/3/5/7` stages of `block.{0,2,3,5}` + `layer_scale`,
/// `features.2/4/6` downsamplers, `classifier.0` norm and `classifier.2` head) onto the official names.
enum TorchvisionConvNeXtNames {
    static let blockParts = ["0": "dwconv", "2": "norm", "3": "pwconv1", "5": "pwconv2"]

    static func isTorchvision(_ sd: StateDict) -> Bool {
        sd.has("features.0.0.weight") && sd.has("features.1.0.layer_scale")
    }

    static func toOfficial(_ sd: StateDict) -> StateDict {
        guard isTorchvision(sd) else { return sd }
        var out: [String: HostTensor] = [:]
        for (name, t) in sd.tensors {
            guard let o = official(name) else { continue }
            out[o] = o.hasSuffix(".gamma") ? HostTensor(shape: [t.count], data: t.data) : t
        }
        return StateDict(tensors: out, origin: sd.origin)
    }

    static func official(_ name: String) -> String? {
        let p = name.split(separator: ".").map(String.init)
        guard p.count >= 3 else { return name }
        switch p[0] {
        case "classifier" where p[1] == "0": return "norm." + p[2]
        case "classifier" where p[1] == "2": return "head." + p[2]
        case "features":
            guard let f = Int(p[1]) else { return name }
            if f == 0 { return (["downsample_layers", "0"] + p[2...]).joined(separator: ".") }
            if f % 2 == 0 { return (["downsample_layers", "\(f / 2)"] + p[2...]).joined(separator: ".") }
            let stage = "stages.\((f - 1) / 2).\(p[2])"
            if p.count == 4 && p[3] == "layer_scale" { return stage + ".gamma" }
            guard p.count >= 6, p[3] == "block", let part = blockParts[p[4]] else { return name }
            return ([stage, part] + p[5...]).joined(separator: ".")
        default: return name
        }
    }
}
