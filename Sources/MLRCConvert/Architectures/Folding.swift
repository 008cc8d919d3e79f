import MLRCRuntime

/// Folding of inference-time affine layers into the weights next to them.
public struct BatchNorm {
    public var scale: [Float]
    public var shift: [Float]

    /// y = (x - mean) / sqrt(var + eps) * weight + bias  ==  x * scale + shift
    public init(_ sd: StateDict, _ prefix: String, eps: Float) throws {
        let mean = try sd.vector(prefix + ".running_mean"), variance = try sd.vector(prefix + ".running_var")
        let n = mean.count
        let weight =
            sd.has(prefix + ".weight") ? try sd.vector(prefix + ".weight", count: n) : [Float](repeating: 1, count: n)
        let bias =
            sd.has(prefix + ".bias") ? try sd.vector(prefix + ".bias", count: n) : [Float](repeating: 0, count: n)
        guard variance.count == n else { throw MLRCError.format("\(prefix): running_var size differs") }
        scale = (0..<n).map { weight[$0] / (variance[$0] + eps).squareRoot() }
        shift = (0..<n).map { bias[$0] - mean[$0] * weight[$0] / (variance[$0] + eps).squareRoot() }
    }
}

extension StateDict {
    public func tensor(_ name: String) throws -> HostTensor {
        guard let t = tensors[name] else { throw MLRCError.format("checkpoint lacks \(name)") }
        return t
    }

    public func vector(_ name: String, count: Int? = nil) throws -> [Float] {
        let t = try tensor(name)
        if let count, t.count != count { throw MLRCError.format("\(name) has \(t.count) values, expected \(count)") }
        return t.data
    }

    public func optionalVector(_ name: String) -> [Float]? { tensors[name]?.data }
}

/// Scales output channel o of a conv/linear weight [Cout, ...] by scale[o].
func scaleOutputChannels(_ w: HostTensor, _ scale: [Float]) throws -> HostTensor {
    guard w.rank >= 1, scale.count == w.shape[0] else {
        throw MLRCError.format("weight \(w.shape) and its \(scale.count) per-channel scales disagree")
    }
    var out = w
    let per = w.count / max(w.shape[0], 1)
    for o in 0..<w.shape[0] { for i in 0..<per { out.data[o * per + i] *= scale[o] } }
    return out
}

/// Conv weight and bias with a following BatchNorm folded in: W' = W * s, b' = b * s + t.
func foldBatchNorm(_ w: HostTensor, bias: [Float]?, _ bn: BatchNorm) throws -> (HostTensor, [Float]) {
    let scaled = try scaleOutputChannels(w, bn.scale)
    let b = bias ?? [Float](repeating: 0, count: w.shape[0])
    guard b.count == bn.scale.count else {
        throw MLRCError.format("conv bias has \(b.count) values, BatchNorm \(bn.scale.count)")
    }
    return (scaled, (0..<b.count).map { b[$0] * bn.scale[$0] + bn.shift[$0] })
}

/// Linear [out, in] applied after an affine x*gamma + beta on its input: W' = W * gamma (per column), b' = b + W beta.
func foldInputAffine(_ w: HostTensor, bias: [Float], gamma: [Float], beta: [Float]) throws -> (HostTensor, [Float]) {
    guard w.rank == 2, gamma.count == w.shape[1], beta.count == w.shape[1], bias.count == w.shape[0] else {
        throw MLRCError.format(
            "linear weight \(w.shape) does not fit its bias (\(bias.count)) or the norm before it (\(gamma.count))")
    }
    let (outN, inN) = (w.shape[0], w.shape[1])
    var out = w
    var b = bias
    for o in 0..<outN {
        var acc: Double = 0
        for i in 0..<inN {
            acc += Double(w.data[o * inN + i]) * Double(beta[i])
            out.data[o * inN + i] = w.data[o * inN + i] * gamma[i]
        }
        b[o] += Float(acc)
    }
    return (out, b)
}

extension GraphBuilder {
    /// `conv` (weight, optional bias; groups from the weight shape) with the BatchNorm `bn` folded in.
    func convBN(
        _ sd: StateDict, _ x: Int, conv: String, bn: String, eps: Float, stride: Int, padding: Padding,
        act: Activation
    ) throws -> Int {
        let w = try sd.tensor(conv + ".weight")
        let groups = shape(x).channels / max(w.dim(1), 1)
        let (fw, fb) = try foldBatchNorm(w, bias: sd.optionalVector(conv + ".bias"), try BatchNorm(sd, bn, eps: eps))
        return try self.conv(
            x, weight: fw, bias: fb, stride: (stride, stride), padding: padding, groups: groups, activation: act,
            name: conv)
    }
}
