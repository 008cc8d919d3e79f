import MLRCRuntime

/// HSNet (GhostModule + heterogeneous convolution + ECA), as docs/ARCHITECTURES.md reconstructs it.
/// BatchNorms are folded into the convolution before them; the BatchNorm after a HetConv (which sums
/// a grouped conv and a GhostModule ending in ReLU) is folded into the grouped conv and applied to the
/// Ghost branch as a channel affine, since a ReLU sits between it and any weight.
enum HSNetBuilder {
    static let eps: Float = 1e-5

    static func build(_ sd: StateDict, options: BuildOptions) throws -> BuiltNetwork {
        let inputSize = options.inputSize ?? 224
        guard inputSize % 32 == 0, inputSize >= 32 else {
            throw MLRCError.argument("HSNet needs an input size that is a multiple of 32")
        }
        let b = GraphBuilder(squareInput: inputSize)

        // Stem: conv3x3 s2 + BN + ReLU, then [dw3x3 + BN -> pw1x1 + BN + ReLU] beside a 3x3 max pool.
        let stem = try convBN(b, sd, 0, "stem.conv", "stem.bn", stride: 2, pad: 1, act: .relu)
        var sep = try convBN(b, sd, stem, "stem.sep.dw", "stem.sep.dw_bn", stride: 1, pad: 1, act: .none)
        sep = try convBN(b, sd, sep, "stem.sep.pw", "stem.sep.pw_bn", stride: 1, pad: 0, act: .relu)
        let pool = try b.pool(stem, max: true, kernel: 3, stride: 1, padding: 1)
        var x = try b.concat([sep, pool])

        let stages = ArchitectureRecognizer.count(sd, prefix: "stages.")
        var depths: [Int] = [], widths: [Int] = []
        var ecaCount = 0
        for i in 0..<stages {
            let depth = ArchitectureRecognizer.count(sd, prefix: "stages.\(i).")
            depths.append(depth)
            for j in 0..<depth {
                let p = "stages.\(i).\(j)."
                if sd.has(p + "dw.weight") {
                    x = try blockB(b, sd, p, x)
                } else {
                    x = try blockA(b, sd, p, x)
                    if sd.has(p + "eca.conv.weight") { ecaCount += 1 }
                }
            }
            widths.append(b.shape(x).channels)
        }
        x = try convBN(b, sd, x, "head.conv", "head.bn", stride: 1, pad: 0, act: .relu)
        let hidden = b.shape(x).channels
        x = b.globalAvgPool(x)
        let fc = try sd.tensor("fc.weight")
        x = try b.linear(x, weight: fc, bias: sd.optionalVector("fc.bias"), name: "fc")
        let standard = widths == [32, 64, 176, 400] && depths == [2, 2, 3, 1] && hidden == 1280
        let name = standard ? "hsnet" : "hsnet_custom"
        let summary =
            "\(name): widths \(widths), depths \(depths), head \(hidden), \(ecaCount) ECA blocks, \(fc.dim(0)) classes, input \(inputSize)"
        return BuiltNetwork(architecture: name, summary: summary, builder: b, output: x, inputSize: inputSize)
    }

    /// A convolution (square kernel, symmetric padding, groups from the weight shape) with its BatchNorm folded in.
    static func convBN(
        _ b: GraphBuilder, _ sd: StateDict, _ x: Int, _ conv: String, _ bn: String, stride: Int, pad: Int,
        act: Activation
    ) throws -> Int {
        try b.convBN(sd, x, conv: conv, bn: bn, eps: eps, stride: stride, padding: .symmetric(pad, pad), act: act)
    }

    /// HetConv followed by BatchNorm `bn` and an activation: gwc(x) + ghost(x), normalised.
    static func hetConvBN(
        _ b: GraphBuilder, _ sd: StateDict, _ p: String, _ x: Int, bn: String, act: Activation
    ) throws -> Int {
        let norm = try BatchNorm(sd, bn, eps: eps)
        let gw = try sd.tensor(p + "gwc.weight")
        let groups = b.shape(x).channels / max(gw.dim(1), 1)
        let (fw, fb) = try foldBatchNorm(gw, bias: sd.optionalVector(p + "gwc.bias"), norm)
        let g = try b.conv(
            x, weight: fw, bias: fb, padding: .symmetric(gw.dim(2) / 2, gw.dim(3) / 2), groups: groups,
            name: p + "gwc")
        var ghost = try convBN(b, sd, x, p + "ghost.primary", p + "ghost.primary_bn", stride: 1, pad: 0, act: .relu)
        let cheap = try convBN(b, sd, ghost, p + "ghost.cheap", p + "ghost.cheap_bn", stride: 1, pad: 1, act: .relu)
        ghost = try b.concat([ghost, cheap])
        ghost = try b.channelAffine(ghost, scale: norm.scale, shift: [Float](repeating: 0, count: norm.scale.count))
        return try b.add(g, ghost, activation: act)
    }

    /// ResHetA: het1-bn1-ReLU-het2-bn2 [-ECA], residual, ReLU.
    static func blockA(_ b: GraphBuilder, _ sd: StateDict, _ p: String, _ x: Int) throws -> Int {
        var y = try hetConvBN(b, sd, p + "het1.", x, bn: p + "bn1", act: .relu)
        y = try hetConvBN(b, sd, p + "het2.", y, bn: p + "bn2", act: .none)
        if sd.has(p + "eca.conv.weight") { y = try b.eca(y, kernel: try sd.vector(p + "eca.conv.weight")) }
        return try b.add(x, y, activation: .relu)
    }

    /// ResHetB (stride 2): dw3x3 s2 + BN, het1-bn1-ReLU-het2-bn2; shortcut avgpool 2x2 + 1x1 conv + BN; ReLU(sum).
    static func blockB(_ b: GraphBuilder, _ sd: StateDict, _ p: String, _ x: Int) throws -> Int {
        var y = try convBN(b, sd, x, p + "dw", p + "dw_bn", stride: 2, pad: 1, act: .none)
        y = try hetConvBN(b, sd, p + "het1.", y, bn: p + "bn1", act: .relu)
        y = try hetConvBN(b, sd, p + "het2.", y, bn: p + "bn2", act: .none)
        var s = try b.pool(x, max: false, kernel: 2, stride: 2, padding: 0)
        s = try convBN(b, sd, s, p + "shortcut.conv", p + "shortcut.bn", stride: 1, pad: 0, act: .none)
        guard b.shape(s) == b.shape(y) else {
            throw MLRCError.format("HSNet \(p): shortcut \(b.shape(s)) and main path \(b.shape(y)) differ")
        }
        return try b.add(y, s, activation: .relu)
    }
}
