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
            let step = try check(node, output: output, shapes: shapes, quant: quant, tensors: d.tensors, ctx: ctx)
            shapes.append(step.shape)
            quant.append(step.step.outputQuant)
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
        guard quant[d.outputValue] == nil else { throw MLRCError.format("graph: the logits must be float32") }
        return ValidatedGraph(shapes: shapes, quant: quant, steps: steps, outputValue: d.outputValue)
    }

    private static func check(_ node: Node, output: Int, shapes: [Shape], quant: [QuantParams?], tensors: [TensorInfo],
                              ctx: String) throws -> (shape: Shape, step: ValidatedGraph.Step)
    {
        let x = shapes[node.inputs[0]]
        var inputZero: Int32 = 0
        var q8 = mlrc_q8_output()
        var lut: Int? = nil
        var outQuant: QuantParams? = nil
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
        /// A tensor of `dtype` with exactly `count` elements (or absent when optional); returns its index.
        @discardableResult
        func tensor(_ slot: Int, count: Int, optional: Bool = false, dtype: TensorDType = .float32) throws -> Int? {
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
                throw MLRCError.format("\(ctx): tensor \(t) has \(info.elementCount) \(info.dtype) elements, expected \(count) \(dtype)")
            }
            return t
        }
        /// Every input float32 (or, for int8 ops, uint8).
        func inputsAre(quantized: Bool) throws {
            for v in node.inputs where (quant[v] != nil) != quantized {
                throw MLRCError.format("\(ctx): input value \(v) is \(quantized ? "float32, expected uint8" : "uint8, expected float32")")
            }
            if quantized, let q = quant[node.inputs[0]] { inputZero = q.zero }
        }
        func quantParams(scale: Float, zero: Int32) throws -> QuantParams {
            guard scale.isFinite, scale > 0, (0...255).contains(zero) else {
                throw MLRCError.format("\(ctx): quantization scale \(scale) / zero point \(zero) out of range")
            }
            return QuantParams(scale: scale, zero: zero)
        }
        /// The output fields of an int8 convolution (ints from `at`), its scale tensor and optional table.
        func quantizedOutput(at i: Int, channels: Int, weightBase: Int) throws {
            let f = node.ints[i..<(i + QuantizedOutputFields.count)].map { $0 }
            let (kind, a, zero, lo, hi, outZero) = (f[0], f[1], f[2], f[3], f[4], f[5])
            guard kind == 0 || kind == 1, (0...255).contains(zero), (0...255).contains(lo), (0...255).contains(hi),
                  lo <= hi, (0...255).contains(outZero), node.floats.count == 1
            else { throw MLRCError.format("\(ctx): output fields \(f) out of range") }
            q8 = mlrc_q8_output(kind: kind, zero: zero, lo: lo, hi: hi, act: try activation(a), lut: nil)
            try tensor(weightBase + 1, count: channels)  // values checked finite by Model, which holds the bytes
            lut = try tensor(weightBase + 2, count: 256, optional: true, dtype: .int8)
            if kind == 0 {
                outQuant = try quantParams(scale: node.floats[0], zero: outZero)
            } else if lut != nil {
                throw MLRCError.format("\(ctx): a table needs a uint8 output")
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

        /// Window, groups (ints[8]) and output channels (ints[9]) of a general convolution; returns the
        /// reduction length per output (kernel taps x input channels per group).
        func groupedWindow() throws -> (groups: Int, outC: Int, k: Int) {
            let groups = Int(node.ints[8]), outC = Int(node.ints[9])
            guard groups >= 1, outC >= 1, outC <= maxDim, x.channels % groups == 0, outC % groups == 0 else {
                throw MLRCError.format("\(ctx): groups \(groups) / channels \(x.channels)->\(outC) inconsistent")
            }
            try window(x.channels, outC)
            geometry.groups = Int32(groups)
            return (groups, outC, Int(geometry.kernel_h) * Int(geometry.kernel_w) * (x.channels / groups))
        }

        if node.op != .add && node.op != .concat && node.inputs.count != 1 {
            throw MLRCError.format("\(ctx): expects one input")
        }
        if node.op == .maxPool, let q = quant[node.inputs[0]] {
            outQuant = q  // max pooling of uint8 codes is exact: the output keeps the input's quantization
        } else if node.op == .concat {
            // float32 output; uint8 inputs are dequantized into their channels
        } else {
            try inputsAre(quantized: node.op == .quantizedConv || node.op == .quantizedDepthwiseConv)
        }
        switch node.op {
        case .conv:
            try needInts(11)
            let (groups, outC, k) = try groupedWindow()
            act = try activation(node.ints[10])
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
            guard node.floats.count == node.ints.count + 1, node.ints.count <= 1, node.floats[0] > 0, node.floats[0] < 1
            else { throw MLRCError.format("\(ctx): needs one eps in (0, 1), and a scale with a zero point") }
            eps = node.floats[0]
            if node.ints.count == 1 { outQuant = try quantParams(scale: node.floats[1], zero: node.ints[0]) }
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
        case .quantize:
            try needInts(1)
            guard node.floats.count == 1 else { throw MLRCError.format("\(ctx): needs a scale") }
            outQuant = try quantParams(scale: node.floats[0], zero: node.ints[0])
        case .quantizedConv:
            try needInts(10 + QuantizedOutputFields.count)
            let (groups, outC, k) = try groupedWindow()
            guard k <= maxReduction else { throw MLRCError.format("\(ctx): reduction of \(k) products too long") }
            let packed = mlrc_q8_packed_bytes(Int32(outC / groups), Int32(k))
            try tensor(0, count: try checkedMul(groups, packed, ctx), dtype: .int8)
            try tensor(1, count: outC, optional: true, dtype: .int32)
            try quantizedOutput(at: 10, channels: outC, weightBase: 1)
        case .quantizedDepthwiseConv:
            try needInts(8 + QuantizedOutputFields.count)
            try window(x.channels, x.channels)
            geometry.groups = Int32(x.channels)
            try tensor(0, count: Int(geometry.kernel_h) * Int(geometry.kernel_w) * x.channels, dtype: .int8)
            try tensor(1, count: x.channels, optional: true, dtype: .int32)
            try quantizedOutput(at: 8, channels: x.channels, weightBase: 1)
        }
        guard out.height <= maxDim, out.width <= maxDim, out.channels <= maxDim,
              out.count <= 1 << 28
        else { throw MLRCError.format("\(ctx): output shape \(out) too large") }
        let step = ValidatedGraph.Step(node: node, output: output, geometry: geometry, activation: act, eps: eps,
                                       countIncludePad: countPad, inputZero: inputZero, q8Output: q8, lutTensor: lut,
                                       outputQuant: outQuant)
        return (out, step)
    }
}
