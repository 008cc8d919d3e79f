/// The typed parameters of each op kind, and their encoding as a node's integer and float fields (the model file
/// stores nodes as op + ints + floats). Builders construct nodes from these values and the validator reads them
/// back, so the field order of each op is written down once, here. Decoding checks only the field counts; whether
/// the values are in range is the validator's job.
public enum OpParams: Sendable, Equatable {
    /// weights: [filter [groups][kH*kW*Cin/groups][Cout/groups], bias [Cout]?]
    case conv(Window, groups: Int32, outChannels: Int32, activation: Int32)
    /// weights: [filter [kH][kW][C], bias [C]?]
    case depthwiseConv(Window, activation: Int32)
    /// weights: [] or [gamma [C], beta [C]]; with `output` the result is quantized to uint8 in the same pass.
    case layerNorm(eps: Float, output: QuantParams?)
    /// two inputs of one shape
    case add(activation: Int32)
    /// inputs of one spatial size, concatenated along channels; float32 output (uint8 inputs are dequantized)
    case concat
    /// on a uint8 input the output is uint8 with the same quantization (max commutes with quantization)
    case maxPool(Window)
    case avgPool(Window, countIncludePad: Bool)
    case globalAvgPool
    /// Efficient Channel Attention; weights: [kernel [k]]
    case eca
    /// weights: [scale [C], shift [C]]
    case channelAffine(activation: Int32)
    case activation(Int32)
    /// float32 -> uint8
    case quantize(QuantParams)
    /// int8 convolution on a uint8 input; weights: [packed int8 (mlrc_q8_pack_weights, one matrix per group),
    /// bias int32 [Cout]?, scale float32 [Cout], table uint8-as-int8 [256]?]
    case quantizedConv(Window, groups: Int32, outChannels: Int32, output: QuantizedOutput)
    /// weights: [int8 [kH][kW][C], bias int32 [C]?, scale float32 [C], table [256]?]
    case quantizedDepthwiseConv(Window, output: QuantizedOutput)
    /// inputs [x, gate 1 x 1 x C]: x * gate per channel (squeeze-and-excitation); with `output` quantized to uint8
    case channelScale(output: QuantParams?)
    /// channels [offset, offset + count) of the input (a channel split)
    case channelSlice(offset: Int32, count: Int32)
    /// channels viewed as [groups][C / groups] and transposed (ShuffleNet)
    case channelShuffle(groups: Int32)

    public var op: OpKind {
        switch self {
        case .conv: return .conv
        case .depthwiseConv: return .depthwiseConv
        case .layerNorm: return .layerNorm
        case .add: return .add
        case .concat: return .concat
        case .maxPool: return .maxPool
        case .avgPool: return .avgPool
        case .globalAvgPool: return .globalAvgPool
        case .eca: return .eca
        case .channelAffine: return .channelAffine
        case .activation: return .activation
        case .quantize: return .quantize
        case .quantizedConv: return .quantizedConv
        case .quantizedDepthwiseConv: return .quantizedDepthwiseConv
        case .channelScale: return .channelScale
        case .channelSlice: return .channelSlice
        case .channelShuffle: return .channelShuffle
        }
    }

    /// The integer fields, in the file's order.
    public var ints: [Int32] {
        switch self {
        case let .conv(w, groups, outC, act): return w.ints + [groups, outC, act]
        case let .depthwiseConv(w, act): return w.ints + [act]
        case let .layerNorm(_, output): return output.map { [$0.zero] } ?? []
        case let .add(act), let .channelAffine(act), let .activation(act): return [act]
        case .concat, .globalAvgPool, .eca: return []
        case let .maxPool(w): return w.ints
        case let .avgPool(w, countPad): return w.ints + [countPad ? 1 : 0]
        case let .quantize(q): return [q.zero]
        case let .quantizedConv(w, groups, outC, output): return w.ints + [groups, outC] + output.ints
        case let .quantizedDepthwiseConv(w, output): return w.ints + output.ints
        case let .channelScale(output): return output.map { [$0.zero] } ?? []
        case let .channelSlice(offset, count): return [offset, count]
        case let .channelShuffle(groups): return [groups]
        }
    }

    /// The float fields, in the file's order.
    public var floats: [Float] {
        switch self {
        case let .layerNorm(eps, output): return [eps] + (output.map { [$0.scale] } ?? [])
        case let .quantize(q): return [q.scale]
        case let .channelScale(output): return output.map { [$0.scale] } ?? []
        case let .quantizedConv(_, _, _, output), let .quantizedDepthwiseConv(_, output): return [output.outputScale]
        default: return []
        }
    }

    /// Decodes a node's fields; throws (naming `context`) when their counts do not fit its op.
    public init(decoding node: Node, context: String) throws {
        let ints = node.ints, floats = node.floats
        func need(_ n: Int, floats f: Int = 0) throws {
            guard ints.count == n else {
                throw MLRCError.format("\(context): expects \(n) integer fields, has \(ints.count)")
            }
            guard floats.count == f else {
                throw MLRCError.format("\(context): expects \(f) float fields, has \(floats.count)")
            }
        }
        let w = Window.fieldCount, q = QuantizedOutput.fieldCount
        switch node.op {
        case .conv:
            try need(w + 3)
            self = .conv(Window(ints[0..<w]), groups: ints[w], outChannels: ints[w + 1], activation: ints[w + 2])
        case .depthwiseConv:
            try need(w + 1)
            self = .depthwiseConv(Window(ints[0..<w]), activation: ints[w])
        case .layerNorm:
            guard ints.count <= 1, floats.count == ints.count + 1 else {
                throw MLRCError.format("\(context): needs one eps in (0, 1), and a scale with a zero point")
            }
            self = .layerNorm(
                eps: floats[0], output: ints.count == 1 ? QuantParams(scale: floats[1], zero: ints[0]) : nil)
        case .add:
            try need(1)
            self = .add(activation: ints[0])
        case .concat:
            self = .concat
        case .maxPool:
            try need(w)
            self = .maxPool(Window(ints[0..<w]))
        case .avgPool:
            try need(w + 1)
            self = .avgPool(Window(ints[0..<w]), countIncludePad: ints[w] != 0)
        case .globalAvgPool:
            self = .globalAvgPool
        case .eca:
            self = .eca
        case .channelAffine:
            try need(1)
            self = .channelAffine(activation: ints[0])
        case .activation:
            try need(1)
            self = .activation(ints[0])
        case .quantize:
            guard ints.count == 1, floats.count == 1 else {
                throw MLRCError.format("\(context): needs a zero point and a scale")
            }
            self = .quantize(QuantParams(scale: floats[0], zero: ints[0]))
        case .quantizedConv:
            try need(w + 2 + q, floats: 1)
            self = .quantizedConv(
                Window(ints[0..<w]), groups: ints[w], outChannels: ints[w + 1],
                output: QuantizedOutput(ints[(w + 2)...], scale: floats[0]))
        case .quantizedDepthwiseConv:
            try need(w + q, floats: 1)
            self = .quantizedDepthwiseConv(Window(ints[0..<w]), output: QuantizedOutput(ints[w...], scale: floats[0]))
        case .channelScale:
            guard ints.count <= 1, floats.count == ints.count else {
                throw MLRCError.format("\(context): needs no fields, or a zero point and a scale")
            }
            self = .channelScale(output: ints.count == 1 ? QuantParams(scale: floats[0], zero: ints[0]) : nil)
        case .channelSlice:
            try need(2)
            self = .channelSlice(offset: ints[0], count: ints[1])
        case .channelShuffle:
            try need(1)
            self = .channelShuffle(groups: ints[0])
        }
    }

    /// The activation fused into the op (none for ops without one).
    public var activation: Int32 {
        switch self {
        case let .conv(_, _, _, act), let .depthwiseConv(_, act), let .add(act), let .channelAffine(act),
            let .activation(act):
            return act
        default: return Activation.none.rawValue
        }
    }

    /// The window of the windowed ops.
    public var window: Window? {
        switch self {
        case let .conv(w, _, _, _), let .depthwiseConv(w, _), let .maxPool(w), let .avgPool(w, _),
            let .quantizedConv(w, _, _, _), let .quantizedDepthwiseConv(w, _):
            return w
        default: return nil
        }
    }
}

/// A convolution or pooling window: kernel size, stride and the four paddings (bottom and right may differ from
/// top and left: TensorFlow's "same").
public struct Window: Sendable, Equatable {
    public static let fieldCount = 8
    public var kernelH, kernelW, strideH, strideW, padTop, padLeft, padBottom, padRight: Int32

    public init(
        kernelH: Int32, kernelW: Int32, strideH: Int32, strideW: Int32, padTop: Int32, padLeft: Int32,
        padBottom: Int32, padRight: Int32
    ) {
        (self.kernelH, self.kernelW, self.strideH, self.strideW) = (kernelH, kernelW, strideH, strideW)
        (self.padTop, self.padLeft, self.padBottom, self.padRight) = (padTop, padLeft, padBottom, padRight)
    }

    /// A square window with the same padding on every side (pooling).
    public init(kernel: Int, stride: Int, padding: Int) {
        let (k, s, p) = (Int32(kernel), Int32(stride), Int32(padding))
        self.init(kernelH: k, kernelW: k, strideH: s, strideW: s, padTop: p, padLeft: p, padBottom: p, padRight: p)
    }

    init(_ f: ArraySlice<Int32>) {
        let v = Array(f)
        self.init(
            kernelH: v[0], kernelW: v[1], strideH: v[2], strideW: v[3], padTop: v[4], padLeft: v[5],
            padBottom: v[6], padRight: v[7])
    }

    public var ints: [Int32] { [kernelH, kernelW, strideH, strideW, padTop, padLeft, padBottom, padRight] }
}

/// The output stage of an int8 convolution (mlrc_q8_output) as the graph stores it. With a table, `zero` is the
/// requantized value's zero point (the table's input) and `outputZero` that of the table's output.
public struct QuantizedOutput: Sendable, Equatable {
    public static let fieldCount = 6
    public var kind: Int32  // 0: uint8, 1: float32
    public var activation: Int32  // float32 output: applied to the value
    public var zero, lo, hi: Int32
    public var outputZero: Int32
    /// uint8 output: its scale; float32 output: 0.
    public var outputScale: Float

    public init(
        kind: Int32, activation: Int32, zero: Int32, lo: Int32, hi: Int32, outputZero: Int32, outputScale: Float
    ) {
        (self.kind, self.activation, self.zero, self.lo, self.hi) = (kind, activation, zero, lo, hi)
        (self.outputZero, self.outputScale) = (outputZero, outputScale)
    }

    init(_ f: ArraySlice<Int32>, scale: Float) {
        let v = Array(f)
        self.init(kind: v[0], activation: v[1], zero: v[2], lo: v[3], hi: v[4], outputZero: v[5], outputScale: scale)
    }

    var ints: [Int32] { [kind, activation, zero, lo, hi, outputZero] }
}

extension Node {
    /// A node of `params`' op with its fields encoded.
    public init(_ params: OpParams, inputs: [Int], weights: [Int] = []) {
        self.init(op: params.op, inputs: inputs, weights: weights, ints: params.ints, floats: params.floats)
    }

    /// The node's fields decoded.
    public func params(context: String = "graph node") throws -> OpParams {
        try OpParams(decoding: self, context: context)
    }
}
