import CMLRCKernels

/// Checks a graph against its tensor table and infers every value's shape. After this, every index,
/// every tensor size and every kernel geometry the executor uses is known to be in range: a model file
/// whose checksum was recomputed after tampering still cannot cause an out-of-bounds access.
public struct ValidatedGraph: Sendable {
    public let shapes: [Shape]
    public let steps: [Step]
    public let outputValue: Int

    /// One node with its parameters decoded and checked.
    public struct Step: Sendable {
        public let node: Node
        public let output: Int
        public let geometry: mlrc_conv_geometry
        public let activation: Int32
        public let eps: Float
        public let countIncludePad: Bool
    }
}

extension mlrc_conv_geometry: @unchecked @retroactive Sendable {}

public enum GraphValidator {
    /// Dimension bound: keeps every product of sizes far from overflow.
    static let maxDim = 1 << 16
    /// Bound on the sum of all activation sizes (before lifetime planning): 1 GiB of floats. A real
    /// classification net needs a few MB; this only stops a hostile file from making a session allocate
    /// (and zero) more than a board has.
    static let maxActivationFloats = 1 << 28

    public static func validate(_ d: ModelDescription) throws -> ValidatedGraph {
        guard d.nodes.count <= ModelFormat.maxNodes else { throw MLRCError.format("graph: too many nodes") }
        guard d.inputShape.channels > 0, d.inputShape.height > 0, d.inputShape.width > 0,
              d.inputShape.channels <= 4, d.inputShape.height <= 4096, d.inputShape.width <= 4096
        else { throw MLRCError.format("graph: input shape \(d.inputShape) out of range") }
        var shapes = [d.inputShape]
        var steps: [ValidatedGraph.Step] = []
        steps.reserveCapacity(d.nodes.count)
        var activationFloats = d.inputShape.count
        for (i, node) in d.nodes.enumerated() {
            let output = i + 1
            let ctx = "graph node \(i) (\(node.op))"
            guard !node.inputs.isEmpty else { throw MLRCError.format("\(ctx): no inputs") }
            for v in node.inputs where v < 0 || v >= output {
                throw MLRCError.format("\(ctx): input value \(v) is not an earlier value")
            }
            let step = try check(node, output: output, shapes: shapes, tensors: d.tensors, ctx: ctx)
            shapes.append(step.shape)
            steps.append(step.step)
            activationFloats += step.shape.count
            guard activationFloats <= maxActivationFloats else {
                throw MLRCError(.memory, "graph: activations exceed \(maxActivationFloats * 4 >> 20) MiB")
            }
        }
        guard d.outputValue >= 1, d.outputValue < shapes.count else {
            throw MLRCError.format("graph: output value \(d.outputValue) does not exist")
        }
        let out = shapes[d.outputValue]
        guard out.height == 1, out.width == 1, out.channels == d.labels.count, !d.labels.isEmpty else {
            throw MLRCError.format("graph: output shape \(out) does not match \(d.labels.count) classes")
        }
        return ValidatedGraph(shapes: shapes, steps: steps, outputValue: d.outputValue)
    }

    private static func check(_ node: Node, output: Int, shapes: [Shape], tensors: [TensorInfo], ctx: String) throws
        -> (shape: Shape, step: ValidatedGraph.Step)
    {
        let x = shapes[node.inputs[0]]
        var geometry = mlrc_conv_geometry()
        var act: Int32 = 0
        var eps: Float = 0
        var countPad = false
        var out = x

        func needInts(_ n: Int) throws {
            if node.ints.count != n { throw MLRCError.format("\(ctx): expects \(n) integer fields, has \(node.ints.count)") }
        }
        func activation(_ v: Int32) throws -> Int32 {
            guard Activation(rawValue: v) != nil else { throw MLRCError.format("\(ctx): unknown activation \(v)") }
            return v
        }
        /// A float32 tensor of exactly `count` elements (or absent when optional).
        func tensor(_ slot: Int, count: Int, optional: Bool = false) throws {
            guard slot < node.weights.count else {
                if optional { return }
                throw MLRCError.format("\(ctx): missing weight \(slot)")
            }
            let t = node.weights[slot]
            if t == Node.absent {
                if optional { return }
                throw MLRCError.format("\(ctx): missing weight \(slot)")
            }
            guard t >= 0, t < tensors.count else { throw MLRCError.format("\(ctx): tensor index \(t) out of range") }
            let info = tensors[t]
            guard info.dtype == .float32, info.elementCount == count else {
                throw MLRCError.format("\(ctx): tensor \(t) has \(info.elementCount) \(info.dtype) elements, expected \(count) float32")
            }
        }
        /// Window geometry from ints[0..<8]; output size from input size and padding.
        func window(_ inC: Int, _ outC: Int) throws {
            let v = node.ints.prefix(8).map(Int.init)
            let (kh, kw, sh, sw, pt, pl, pb, pr) = (v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7])
            guard (1...255).contains(kh), (1...255).contains(kw), (1...64).contains(sh), (1...64).contains(sw),
                  (0..<kh).contains(pt), (0..<kh).contains(pb), (0..<kw).contains(pl), (0..<kw).contains(pr)
            else { throw MLRCError.format("\(ctx): window fields \(v) out of range") }
            let ph = x.height + pt + pb, pw = x.width + pl + pr
            guard ph >= kh, pw >= kw else { throw MLRCError.format("\(ctx): kernel larger than the padded input \(x)") }
            out = Shape(height: (ph - kh) / sh + 1, width: (pw - kw) / sw + 1, channels: outC)
            geometry = mlrc_conv_geometry(
                in_h: Int32(x.height), in_w: Int32(x.width), in_c: Int32(inC), out_h: Int32(out.height),
                out_w: Int32(out.width), out_c: Int32(outC), kernel_h: Int32(kh), kernel_w: Int32(kw),
                stride_h: Int32(sh), stride_w: Int32(sw), pad_top: Int32(pt), pad_left: Int32(pl), groups: 1)
        }

        if node.op != .add && node.op != .concat && node.inputs.count != 1 {
            throw MLRCError.format("\(ctx): expects one input")
        }
        switch node.op {
        case .conv:
            try needInts(11)
            let groups = Int(node.ints[8]), outC = Int(node.ints[9])
            guard groups >= 1, outC >= 1, outC <= maxDim, x.channels % groups == 0, outC % groups == 0 else {
                throw MLRCError.format("\(ctx): groups \(groups) / channels \(x.channels)->\(outC) inconsistent")
            }
            try window(x.channels, outC)
            geometry.groups = Int32(groups)
            act = try activation(node.ints[10])
            let k = Int(geometry.kernel_h) * Int(geometry.kernel_w) * (x.channels / groups)
            try tensor(0, count: try checkedCount([groups, k, outC / groups], ctx))
            try tensor(1, count: outC, optional: true)
        case .depthwiseConv:
            try needInts(9)
            try window(x.channels, x.channels)
            geometry.groups = Int32(x.channels)
            act = try activation(node.ints[8])
            try tensor(0, count: Int(geometry.kernel_h) * Int(geometry.kernel_w) * x.channels)
            try tensor(1, count: x.channels, optional: true)
        case .layerNorm:
            guard node.floats.count == 1, node.floats[0] > 0, node.floats[0] < 1 else {
                throw MLRCError.format("\(ctx): needs one eps in (0, 1)")
            }
            eps = node.floats[0]
            if !node.weights.isEmpty {
                try tensor(0, count: x.channels)
                try tensor(1, count: x.channels)
            }
        case .add:
            try needInts(1)
            act = try activation(node.ints[0])
            guard node.inputs.count == 2, shapes[node.inputs[1]] == x else {
                throw MLRCError.format("\(ctx): needs two inputs of one shape")
            }
        case .concat:
            var c = 0
            for v in node.inputs {
                let s = shapes[v]
                guard s.height == x.height, s.width == x.width else {
                    throw MLRCError.format("\(ctx): inputs differ in spatial size")
                }
                c += s.channels
            }
            guard c <= maxDim else { throw MLRCError.format("\(ctx): too many channels") }
            out = Shape(height: x.height, width: x.width, channels: c)
        case .maxPool, .avgPool:
            try needInts(node.op == .maxPool ? 8 : 9)
            try window(x.channels, x.channels)
            if node.op == .avgPool { countPad = node.ints[8] != 0 }
        case .globalAvgPool:
            out = Shape(height: 1, width: 1, channels: x.channels)
        case .eca:
            guard let t = node.weights.first, t >= 0, t < tensors.count, tensors[t].dtype == .float32 else {
                throw MLRCError.format("\(ctx): missing kernel")
            }
            let k = tensors[t].elementCount
            guard k >= 1, k <= 31, k % 2 == 1 else { throw MLRCError.format("\(ctx): kernel size \(k) not odd in 1...31") }
            try tensor(0, count: k)
        case .channelAffine:
            try needInts(1)
            act = try activation(node.ints[0])
            try tensor(0, count: x.channels)
            try tensor(1, count: x.channels)
        case .activation:
            try needInts(1)
            act = try activation(node.ints[0])
        }
        guard out.height <= maxDim, out.width <= maxDim, out.channels <= maxDim,
              out.count <= 1 << 28
        else { throw MLRCError.format("\(ctx): output shape \(out) too large") }
        let step = ValidatedGraph.Step(node: node, output: output, geometry: geometry, activation: act, eps: eps,
                                       countIncludePad: countPad)
        return (out, step)
    }
}
