import CMLRCKernels

/// Checks a graph against its tensor table and infers every value's shape. After this, every index,
/// every tensor size and every kernel geometry the executor uses is known to be in range: a model file
/// whose checksum was recomputed after tampering still cannot cause an out-of-bounds access.
public struct ValidatedGraph: Sendable {
    public let shapes: [Shape]
    /// For each value: its uint8 quantization, or nil for float32.
    public let quant: [QuantParams?]
    public let steps: [Step]
    public let outputValue: Int

    /// One node with its parameters decoded and checked.
    public struct Step: Sendable {
        public let node: Node
        public let params: OpParams
        public let output: Int
        public let geometry: mlrc_conv_geometry
        public let activation: Int32
        public let eps: Float
        public let countIncludePad: Bool
        /// int8 ops: the input's zero point, the output stage (its table pointer is set when running) and the
        /// table's tensor index (or nil); quantize and a quantized LayerNorm: the output's quantization.
        public let inputZero: Int32
        public let q8Output: mlrc_q8_output
        public let lutTensor: Int?
        public let outputQuant: QuantParams?

    }

    /// Bytes per element of value v.
    public func elementBytes(_ v: Int) -> Int { quant[v] == nil ? 4 : 1 }
}

extension mlrc_conv_geometry: @unchecked @retroactive Sendable {}
extension mlrc_q8_output: @unchecked @retroactive Sendable {}

public enum GraphValidator {
    /// Dimension bound: keeps every product of sizes far from overflow.
    static let maxDim = 1 << 16
    /// Bound on the sum of all activation sizes (before lifetime planning): 1 GiB of floats. A real
    /// classification net needs a few MB; this only stops a hostile file from making a session allocate
    /// (and zero) more than a board has.
    static let maxActivationFloats = 1 << 28
    /// Longest int8 dot product: |sum| <= K * 255 * 128 stays inside int32.
    static let maxReduction = 1 << 16

    public static func validate(_ d: ModelDescription) throws -> ValidatedGraph {
        guard d.nodes.count <= ModelFormat.maxNodes else { throw MLRCError.format("graph: too many nodes") }
        guard d.inputShape.channels > 0, d.inputShape.height > 0, d.inputShape.width > 0,
            d.inputShape.channels <= 4, d.inputShape.height <= 4096, d.inputShape.width <= 4096
        else { throw MLRCError.format("graph: input shape \(d.inputShape) out of range") }
        var shapes = [d.inputShape]
        var quant: [QuantParams?] = [nil]
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
            var checker = try NodeChecker(node, shapes: shapes, quant: quant, tensors: d.tensors, ctx: ctx)
            let step = try checker.check(output: output)
            shapes.append(checker.out)
            quant.append(step.outputQuant)
            steps.append(step)
            activationFloats += checker.out.count
            guard activationFloats <= maxActivationFloats else {
                throw MLRCError(.memory, "graph: activations exceed \((maxActivationFloats * 4) >> 20) MiB")
            }
        }
        guard d.outputValue >= 1, d.outputValue < shapes.count else {
            throw MLRCError.format("graph: output value \(d.outputValue) does not exist")
        }
        let out = shapes[d.outputValue]
        guard out.height == 1, out.width == 1, out.channels == d.labels.count, !d.labels.isEmpty else {
            throw MLRCError.format("graph: output shape \(out) does not match \(d.labels.count) classes")
        }
        guard quant[d.outputValue] == nil else { throw MLRCError.format("graph: the logits must be float32") }
        return ValidatedGraph(shapes: shapes, quant: quant, steps: steps, outputValue: d.outputValue)
    }
}

/// The checks of one node: its inputs, its op's fields (decoded as OpParams) and weights, and its output shape.
/// One method per op kind; the shared pieces (windows, tensors, int8 output stages) are the helpers below.
private struct NodeChecker {
    let node: Node
    let params: OpParams
    let shapes: [Shape]
    let quant: [QuantParams?]
    let tensors: [TensorInfo]
    let ctx: String
    let x: Shape
    // What the checks find out, for the step.
    var inputZero: Int32 = 0
    var q8 = mlrc_q8_output()
    var lut: Int? = nil
    var outQuant: QuantParams? = nil
    var geometry = mlrc_conv_geometry()
    var act: Int32 = 0
    var eps: Float = 0
    var countPad = false
    var out: Shape

    init(_ node: Node, shapes: [Shape], quant: [QuantParams?], tensors: [TensorInfo], ctx: String) throws {
        self.node = node
        self.params = try node.params(context: ctx)
        self.shapes = shapes
        self.quant = quant
        self.tensors = tensors
        self.ctx = ctx
        x = shapes[node.inputs[0]]
        out = x
    }

    mutating func check(output: Int) throws -> ValidatedGraph.Step {
        if node.op != .add && node.op != .concat && node.op != .channelScale && node.inputs.count != 1 {
            throw MLRCError.format("\(ctx): expects one input")
        }
        if node.op == .maxPool, let q = quant[node.inputs[0]] {
            outQuant = q  // max pooling of uint8 codes is exact: the output keeps the input's quantization
        } else if node.op == .concat {
            // float32 output; uint8 inputs are dequantized into their channels
        } else {
            try inputsAre(quantized: node.op == .quantizedConv || node.op == .quantizedDepthwiseConv)
        }
        switch params {
        case let .conv(w, groups, outC, a): try conv(w, groups: groups, outC: outC, activation: a)
        case let .depthwiseConv(w, a): try depthwiseConv(w, activation: a)
        case let .layerNorm(e, output): try layerNorm(eps: e, output: output)
        case let .add(a): try add(activation: a)
        case .concat: try concat()
        case let .maxPool(w): try window(w, x.channels, x.channels)
        case let .avgPool(w, countIncludePad):
            try window(w, x.channels, x.channels)
            countPad = countIncludePad
        case .globalAvgPool: out = Shape(height: 1, width: 1, channels: x.channels)
        case .eca: try eca()
        case let .channelAffine(a):
            act = try activation(a)
            try tensor(0, count: x.channels)
            try tensor(1, count: x.channels)
        case let .activation(a): act = try activation(a)
        case let .quantize(q): outQuant = try quantParams(q)
        case let .quantizedConv(w, groups, outC, output):
            try quantizedConv(w, groups: groups, outC: outC, output: output)
        case let .quantizedDepthwiseConv(w, output): try quantizedDepthwiseConv(w, output: output)
        case let .channelScale(output):
            guard node.inputs.count == 2, shapes[node.inputs[1]] == Shape(height: 1, width: 1, channels: x.channels)
            else { throw MLRCError.format("\(ctx): needs an input and a 1x1x\(x.channels) gate") }
            if let output { outQuant = try quantParams(output) }
        case let .channelSlice(offset, count):
            guard offset >= 0, count >= 1, Int(offset) + Int(count) <= x.channels else {
                throw MLRCError.format("\(ctx): channels \(offset)..<\(Int(offset) + Int(count)) of \(x.channels)")
            }
            out = Shape(height: x.height, width: x.width, channels: Int(count))
        case let .channelShuffle(groups):
            guard groups >= 1, x.channels % Int(groups) == 0 else {
                throw MLRCError.format("\(ctx): \(x.channels) channels do not split into \(groups) groups")
            }
        }
        guard out.height <= GraphValidator.maxDim, out.width <= GraphValidator.maxDim,
            out.channels <= GraphValidator.maxDim, out.count <= 1 << 28
        else { throw MLRCError.format("\(ctx): output shape \(out) too large") }
        return ValidatedGraph.Step(
            node: node, params: params, output: output, geometry: geometry, activation: act,
            eps: eps, countIncludePad: countPad, inputZero: inputZero, q8Output: q8,
            lutTensor: lut, outputQuant: outQuant)
    }

    // MARK: one check per op

    private mutating func conv(_ w: Window, groups: Int32, outC: Int32, activation a: Int32) throws {
        let (groups, outC, k) = try groupedWindow(w, groups: groups, outC: outC)
        act = try activation(a)
        try tensor(0, count: try checkedCount([groups, k, outC / groups], ctx))
        try tensor(1, count: outC, optional: true)
    }

    private mutating func depthwiseConv(_ w: Window, activation a: Int32) throws {
        try window(w, x.channels, x.channels)
        geometry.groups = Int32(x.channels)
        act = try activation(a)
        try tensor(0, count: Int(geometry.kernel_h) * Int(geometry.kernel_w) * x.channels)
        try tensor(1, count: x.channels, optional: true)
    }

    private mutating func layerNorm(eps e: Float, output: QuantParams?) throws {
        guard e > 0, e < 1 else {
            throw MLRCError.format("\(ctx): needs one eps in (0, 1), and a scale with a zero point")
        }
        eps = e
        if let output { outQuant = try quantParams(output) }
        if !node.weights.isEmpty {
            try tensor(0, count: x.channels)
            try tensor(1, count: x.channels)
        }
    }

    private mutating func add(activation a: Int32) throws {
        act = try activation(a)
        guard node.inputs.count == 2, shapes[node.inputs[1]] == x else {
            throw MLRCError.format("\(ctx): needs two inputs of one shape")
        }
    }

    private mutating func concat() throws {
        var c = 0
        for v in node.inputs {
            let s = shapes[v]
            guard s.height == x.height, s.width == x.width else {
                throw MLRCError.format("\(ctx): inputs differ in spatial size")
            }
            c += s.channels
        }
        guard c <= GraphValidator.maxDim else { throw MLRCError.format("\(ctx): too many channels") }
        out = Shape(height: x.height, width: x.width, channels: c)
    }

    private func eca() throws {
        guard let t = node.weights.first, t >= 0, t < tensors.count, tensors[t].dtype == .float32 else {
            throw MLRCError.format("\(ctx): missing kernel")
        }
        let k = tensors[t].elementCount
        guard k >= 1, k <= 31, k % 2 == 1 else { throw MLRCError.format("\(ctx): kernel size \(k) not odd in 1...31") }
        try tensor(0, count: k)
    }

    private mutating func quantizedConv(_ w: Window, groups: Int32, outC: Int32, output: QuantizedOutput) throws {
        let (groups, outC, k) = try groupedWindow(w, groups: groups, outC: outC)
        guard k <= GraphValidator.maxReduction else {
            throw MLRCError.format("\(ctx): reduction of \(k) products too long")
        }
        let packed = mlrc_q8_packed_bytes(Int32(outC / groups), Int32(k))
        try tensor(0, count: try checkedMul(groups, packed, ctx), dtype: .int8)
        try tensor(1, count: outC, optional: true, dtype: .int32)
        try quantizedOutput(output, channels: outC, weightBase: 1)
    }

    private mutating func quantizedDepthwiseConv(_ w: Window, output: QuantizedOutput) throws {
        try window(w, x.channels, x.channels)
        geometry.groups = Int32(x.channels)
        try tensor(0, count: Int(geometry.kernel_h) * Int(geometry.kernel_w) * x.channels, dtype: .int8)
        try tensor(1, count: x.channels, optional: true, dtype: .int32)
        try quantizedOutput(output, channels: x.channels, weightBase: 1)
    }

    // MARK: shared pieces

    private func activation(_ v: Int32) throws -> Int32 {
        guard v >= 0 else { throw MLRCError.format("\(ctx): unknown activation \(v)") }
        // a code past the known ones comes from a newer writer, like an unknown op
        guard Activation(rawValue: v) != nil else {
            throw MLRCError(.version, "\(ctx): activation \(v) is unknown to this library version")
        }
        return v
    }

    /// A tensor of `dtype` with exactly `count` elements (or absent when optional); returns its index.
    @discardableResult
    private func tensor(_ slot: Int, count: Int, optional: Bool = false, dtype: TensorDType = .float32) throws -> Int? {
        guard slot < node.weights.count else {
            if optional { return nil }
            throw MLRCError.format("\(ctx): missing weight \(slot)")
        }
        let t = node.weights[slot]
        if t == Node.absent {
            if optional { return nil }
            throw MLRCError.format("\(ctx): missing weight \(slot)")
        }
        guard t >= 0, t < tensors.count else { throw MLRCError.format("\(ctx): tensor index \(t) out of range") }
        let info = tensors[t]
        guard info.dtype == dtype, info.elementCount == count else {
            throw MLRCError.format(
                "\(ctx): tensor \(t) has \(info.elementCount) \(info.dtype) elements, expected \(count) \(dtype)")
        }
        return t
    }

    /// Every input float32 (or, for int8 ops, uint8).
    private mutating func inputsAre(quantized: Bool) throws {
        for v in node.inputs where (quant[v] != nil) != quantized {
            throw MLRCError.format(
                "\(ctx): input value \(v) is \(quantized ? "float32, expected uint8" : "uint8, expected float32")")
        }
        if quantized, let q = quant[node.inputs[0]] { inputZero = q.zero }
    }

    private func quantParams(_ q: QuantParams) throws -> QuantParams {
        guard q.scale.isFinite, q.scale > 0, (0...255).contains(q.zero) else {
            throw MLRCError.format("\(ctx): quantization scale \(q.scale) / zero point \(q.zero) out of range")
        }
        return q
    }

    /// The output stage of an int8 convolution, its scale tensor and optional table.
    private mutating func quantizedOutput(_ o: QuantizedOutput, channels: Int, weightBase: Int) throws {
        guard o.kind == 0 || o.kind == 1, (0...255).contains(o.zero), (0...255).contains(o.lo),
            (0...255).contains(o.hi),
            o.lo <= o.hi, (0...255).contains(o.outputZero)
        else {
            throw MLRCError.format(
                "\(ctx): output fields \([o.kind, o.activation, o.zero, o.lo, o.hi, o.outputZero]) out of range")
        }
        q8 = mlrc_q8_output(kind: o.kind, zero: o.zero, lo: o.lo, hi: o.hi, act: try activation(o.activation), lut: nil)
        try tensor(weightBase + 1, count: channels)  // values checked finite by Model, which holds the bytes
        lut = try tensor(weightBase + 2, count: 256, optional: true, dtype: .int8)
        if o.kind == 0 {
            outQuant = try quantParams(QuantParams(scale: o.outputScale, zero: o.outputZero))
        } else if lut != nil {
            throw MLRCError.format("\(ctx): a table needs a uint8 output")
        }
    }

    /// The window's geometry; the output size from the input size and padding.
    private mutating func window(_ w: Window, _ inC: Int, _ outC: Int) throws {
        let v = w.ints.map(Int.init)
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

    /// Window, groups and output channels of a general convolution; returns the reduction length per output
    /// (kernel taps x input channels per group).
    private mutating func groupedWindow(
        _ w: Window, groups g: Int32, outC o: Int32
    ) throws -> (groups: Int, outC: Int, k: Int) {
        let groups = Int(g), outC = Int(o)
        guard groups >= 1, outC >= 1, outC <= GraphValidator.maxDim, x.channels % groups == 0, outC % groups == 0 else {
            throw MLRCError.format("\(ctx): groups \(groups) / channels \(x.channels)->\(outC) inconsistent")
        }
        try window(w, x.channels, outC)
        geometry.groups = Int32(groups)
        return (groups, outC, Int(geometry.kernel_h) * Int(geometry.kernel_w) * (x.channels / groups))
    }
}
