import CMLRCKernels
import MLRCRuntime

/// What calibration found for the fp32 graph's values (fp32 value numbering).
struct CalibrationResult {
    /// uint8 quantization of each value a quantized op reads or writes (after the activation).
    var params: [Int: QuantParams]
    /// For convolution outputs with a table activation (GELU, sigmoid, SiLU, ...): the quantization of the activation's input.
    var preActivation: [Int: QuantParams]
    /// Per-channel means of each convolution input (bias correction).
    var channelMeans: [Int: [Float]]
    /// Each channel's variance, by value: what pair-bounded weights weigh their rounding by.
    var channelEnergies: [Int: [Double]] = [:]
    /// Per-channel mean error each int8 convolution output (fp32 value) showed, measured (empirical bias correction).
    var measuredShift: [Int: [Float]] = [:]
    /// Per-output-channel weight scales a quantized (QDQ) model gives, by convolution node: used as they are.
    var weightScales: [Int: [Float]] = [:]
}

/// A mixed int8/fp32 graph made from the fp32 one, and how its values relate to the fp32 values.
struct QuantizedGraph {
    var contents: ModelContents
    /// int8-graph value -> the fp32 value it stands for (quantize copies of a float value are left out).
    var origin: [Int: Int]
}

/// Rewrites an fp32 graph: chosen convolutions become int8 (uint8 activations, int8 per-channel weights packed
/// as the kernels read them, int32 biases, float requantization scales); quantize ops appear only where a float
/// value feeds an int8 op, and an int8 op writes uint8 only when every reader of its output is int8 too
/// (otherwise it writes float, dequantized in the same pass). A LayerNorm read only by int8 ops quantizes its
/// own output, as does a squeeze-and-excitation multiply; a max pool read only by int8 ops pools the uint8 codes. Everything else stays fp32.
enum QuantizedGraphBuilder {
    static func build(
        _ net: BuiltNetwork, quantized: Set<Int>, calibration: CalibrationResult, biasCorrection: Bool,
        weightSearch: Bool, pairBounded: Set<Int> = []
    ) throws -> QuantizedGraph {
        let nodes = net.builder.nodes, host = net.builder.tensors
        var consumers = [[Int]](repeating: [], count: nodes.count + 1)
        for (i, n) in nodes.enumerated() { for v in Set(n.inputs) { consumers[v].append(i) } }
        // Readers that take uint8 as well as float: a concat (it dequantizes into its output) and a max pool read
        // only by such readers (max of uint8 codes is exact, so the pool runs on the codes).
        /// Whether value v has readers and every one of them is `accepted` (the logits always stay float).
        func readOnly(_ v: Int, by accepted: (Int) -> Bool) -> Bool {
            v != net.output && !consumers[v].isEmpty && consumers[v].allSatisfy(accepted)
        }
        let concats = Set(nodes.indices.filter { nodes[$0].op == .concat })
        let uint8Pools = Set(
            nodes.indices.filter { i in
                // the codes need the input's calibrated quantization (a pool after a concat has none: it pools floats)
                nodes[i].op == .maxPool && calibration.params[nodes[i].inputs[0]] != nil
                    && readOnly(i + 1) { quantized.contains($0) || concats.contains($0) }
            })
        /// Whether an int8 op's output can stay uint8: every reader takes uint8.
        func readOnlyByInt8(_ v: Int) -> Bool {
            readOnly(v) { quantized.contains($0) || uint8Pools.contains($0) || concats.contains($0) }
        }

        var out: [Node] = [], tensors: [StoredTensor] = []
        var floatOf: [Int: Int] = [0: 0], uint8Of: [Int: Int] = [:], origin: [Int: Int] = [0: 0]
        var copied: [Int: Int] = [:]
        func emit(_ node: Node) -> Int { out.append(node); return out.count }
        func store(_ t: StoredTensor) -> Int { tensors.append(t); return tensors.count - 1 }
        func copyTensor(_ t: Int) -> Int {
            guard t != Node.absent else { return t }
            if let c = copied[t] { return c }
            let c = store(StoredTensor(dims: host[t].shape, storage: .f32(host[t].data)))
            copied[t] = c
            return c
        }
        var inherited: [Int: QuantParams] = [:]  // a uint8 max pool's output keeps its input's quantization
        func params(_ v: Int) throws -> QuantParams {
            if let p = inherited[v] { return p }
            guard let p = calibration.params[v] else { throw MLRCError(.internal, "value \(v) was not calibrated") }
            return p
        }
        func float(_ v: Int) throws -> Int {
            guard let f = floatOf[v] else { throw MLRCError(.internal, "value \(v) has no float version") }
            return f
        }
        func uint8(_ v: Int) throws -> Int {
            if let q = uint8Of[v] { return q }
            let p = try params(v)
            let q = emit(Node(.quantize(p), inputs: [try float(v)]))
            uint8Of[v] = q
            return q
        }

        for (i, n) in nodes.enumerated() {
            let v = i + 1
            if quantized.contains(i) {
                let input = try uint8(n.inputs[0])
                let toUInt8 = readOnlyByInt8(v)
                let (node, weights) = try convert(
                    n, value: v, input: input, host: host, toUInt8: toUInt8,
                    calibration: calibration, biasCorrection: biasCorrection,
                    weightSearch: weightSearch, pairBound: pairBounded.contains(i), params: params)
                var q = node
                q.weights = weights.map { $0.map(store) ?? Node.absent }
                let nv = emit(q)
                origin[nv] = v
                if toUInt8 { uint8Of[v] = nv } else { floatOf[v] = nv }
            } else if uint8Pools.contains(i) {
                var pool = n
                pool.inputs = [try uint8(n.inputs[0])]
                inherited[v] = try params(n.inputs[0])
                let nv = emit(pool)
                uint8Of[v] = nv
                origin[nv] = v
            } else if n.op == .concat {
                var cat = n
                cat.inputs = try n.inputs.map { v in try floatOf[v] ?? uint8(v) }
                let nv = emit(cat)
                floatOf[v] = nv
                origin[nv] = v
            } else if n.op == .layerNorm && readOnly(v, by: { quantized.contains($0) }) {
                guard case let .layerNorm(eps, _) = try n.params() else {
                    throw MLRCError(.internal, "not a LayerNorm")
                }
                let ln = Node(
                    .layerNorm(eps: eps, output: try params(v)), inputs: try n.inputs.map(float),
                    weights: n.weights.map(copyTensor))
                let nv = emit(ln)
                uint8Of[v] = nv
                origin[nv] = v
            } else if n.op == .channelScale && readOnly(v, by: { quantized.contains($0) }) {
                // the squeeze-and-excitation multiply quantizes its own output for the int8 convolution after it
                let se = Node(.channelScale(output: try params(v)), inputs: try n.inputs.map(float))
                let nv = emit(se)
                uint8Of[v] = nv
                origin[nv] = v
            } else {
                var m = n
                m.inputs = try n.inputs.map(float)
                m.weights = n.weights.map(copyTensor)
                let nv = emit(m)
                floatOf[v] = nv
                origin[nv] = v
            }
        }
        let contents = ModelContents(network: net, nodes: out, tensors: tensors, output: try float(net.output))
        return QuantizedGraph(contents: contents, origin: origin)
    }

    /// One fp32 convolution as an int8 node (weights returned as tensors for the caller to store).
    private static func convert(
        _ n: Node, value v: Int, input: Int, host: [HostTensor], toUInt8: Bool,
        calibration: CalibrationResult, biasCorrection: Bool, weightSearch: Bool, pairBound: Bool,
        params: (Int) throws -> QuantParams
    ) throws -> (Node, [StoredTensor?]) {
        let p = try n.params()
        guard let window = p.window, n.op == .conv || n.op == .depthwiseConv else {
            throw MLRCError(.internal, "node \(v) is not a convolution")
        }
        let depthwise = n.op == .depthwiseConv
        let (kh, kw) = (Int(window.kernelH), Int(window.kernelW))
        let act = Activation(rawValue: p.activation) ?? .none
        let w = host[n.weights[0]].data
        var outC = w.count / max(kh * kw, 1), groups = outC
        if case let .conv(_, g, o, _) = p { (groups, outC) = (Int(g), Int(o)) }
        let coG = outC / groups, k = w.count / max(groups * coG, 1), cinG = k / max(kh * kw, 1)
        // The fp32 layouts: depthwise [kh][kw][C] (coG = C, k = taps); general [group][k = (ky, kx, ci)][co of the group].
        let (layoutCoG, layoutK) = depthwise ? (outC, kh * kw) : (coG, k)
        let qw =
            calibration.weightScales[v - 1].flatMap {
                WeightQuantizer.quantize(w, channels: outC, coG: layoutCoG, k: layoutK, scales: $0)
            }
            ?? WeightQuantizer.quantize(
                w, channels: outC, coG: layoutCoG, k: layoutK, search: weightSearch,
                pairBound: pairBound && !depthwise ? (cinG, calibration.channelEnergies[n.inputs[0]] ?? []) : nil)

        var bias =
            n.weights.count > 1 && n.weights[1] != Node.absent
            ? host[n.weights[1]].data
            : [Float](repeating: 0, count: outC)
        // Bias correction: the rounded weights shift each output's mean by sum((Wq - W) * E[x]); take it back.
        if biasCorrection, let means = calibration.channelMeans[n.inputs[0]] {
            var shift = [Double](repeating: 0, count: outC)
            mlrc_weight_mean_shift(
                w, qw.values, qw.scales, w.count, Int32(layoutCoG), Int32(max(layoutK, 1)),
                Int32(cinG), depthwise ? 1 : 0, means, Int32(means.count), &shift)
            for c in 0..<outC { bias[c] -= Float(shift[c]) }
        }
        // What is left of the output's mean shift, measured on the calibration images (input rounding and clipping),
        // for outputs without an activation, where a bias shift moves the mean one for one.
        if biasCorrection, !act.isTable, let measured = calibration.measuredShift[v], measured.count == outC {
            for c in 0..<outC { bias[c] -= measured[c] }
        }

        let inP = try params(n.inputs[0])
        var output = QuantizedOutput(
            kind: 1, activation: act.rawValue, zero: 0, lo: 0, hi: 255, outputZero: 0, outputScale: 0)
        var requant = QuantParams(scale: 1, zero: 0)
        var table: [Int8]? = nil
        if toUInt8 {
            let o = try params(v)
            requant = o
            var lo: Int32 = 0, hi: Int32 = 255
            switch act {
            case .relu: lo = o.zero
            case .relu6:
                lo = o.zero
                hi = Int32(min(255, Float(o.zero) + (6 / o.scale).rounded()))
            case .gelu, .sigmoid, .hardswish, .hardsigmoid, .silu:
                guard let pre = calibration.preActivation[v] else {
                    throw MLRCError(.internal, "value \(v): no calibration of the activation's input")
                }
                requant = pre
                var lut = [UInt8](repeating: 0, count: 256)
                mlrc_q8_make_lut(act.rawValue, pre.scale, pre.zero, o.scale, o.zero, &lut)
                table = lut.map { Int8(bitPattern: $0) }
            case .none: break
            }
            output = QuantizedOutput(
                kind: 0, activation: 0, zero: requant.zero, lo: lo, hi: hi, outputZero: o.zero,
                outputScale: o.scale)
        }
        var scale = [Float](repeating: 0, count: outC), qbias = [Int32](repeating: 0, count: outC)
        for c in 0..<outC {
            let accScale = inP.scale * qw.scales[c]
            scale[c] = toUInt8 ? accScale / requant.scale : accScale
            qbias[c] = Int32(min(max((bias[c] / accScale).rounded(), -2e9), 2e9))
        }

        let weightTensor: StoredTensor
        if depthwise {
            weightTensor = StoredTensor(dims: [kh, kw, outC], storage: .i8(qw.values))
        } else {
            let perGroup = Int(mlrc_q8_packed_bytes(Int32(coG), Int32(k)))
            var packed = [Int8](repeating: 0, count: groups * perGroup)
            qw.values.withUnsafeBufferPointer { src in
                packed.withUnsafeMutableBufferPointer { dst in
                    for g in 0..<groups {
                        mlrc_q8_pack_weights(
                            Int32(coG), Int32(k), src.baseAddress! + g * k * coG,
                            dst.baseAddress! + g * perGroup)
                    }
                }
            }
            weightTensor = StoredTensor(dims: [groups, perGroup], storage: .i8(packed))
        }
        let params: OpParams =
            depthwise
            ? .quantizedDepthwiseConv(window, output: output)
            : .quantizedConv(window, groups: Int32(groups), outChannels: Int32(outC), output: output)
        let node = Node(params, inputs: [input])
        return (
            node,
            [
                weightTensor, StoredTensor(dims: [outC], storage: .i32(qbias)),
                StoredTensor(dims: [outC], storage: .f32(scale)),
                table.map { StoredTensor(dims: [256], storage: .i8($0)) },
            ]
        )
    }
}
