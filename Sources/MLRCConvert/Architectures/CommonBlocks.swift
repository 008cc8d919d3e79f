import MLRCRuntime

/// The pieces the torchvision and timm families share: a convolution with its BatchNorm folded and PyTorch's
/// padding, a squeeze-and-excitation gate, and a classifier head that may be one Linear or a Sequential of them.
extension GraphBuilder {
    /// `conv` (its groups from the weight's shape) with the BatchNorm `bn` folded in when given; padding
    /// (k - 1) / 2 on every side unless given, as torchvision's and timm's PyTorch-style layers pad.
    func torchConv(
        _ sd: StateDict, _ x: Int, _ conv: String, bn: String?, stride: Int = 1, act: Activation = .none,
        eps: Float = 1e-5, padding: Int? = nil
    ) throws -> Int {
        let w = try sd.tensor(conv + ".weight")
        guard w.rank == 4 else { throw MLRCError.format("\(conv).weight must be 4-D, got \(w.shape)") }
        let pad: Padding = padding.map { .symmetric($0, $0) } ?? .symmetric((w.dim(2) - 1) / 2, (w.dim(3) - 1) / 2)
        if let bn { return try convBN(sd, x, conv: conv, bn: bn, eps: eps, stride: stride, padding: pad, act: act) }
        guard w.dim(1) >= 1, shape(x).channels % w.dim(1) == 0 else {
            throw MLRCError.format("\(conv).weight \(w.shape) does not fit its \(shape(x)) input")
        }
        return try self.conv(
            x, weight: w, bias: sd.optionalVector(conv + ".bias"), stride: (stride, stride), padding: pad,
            groups: shape(x).channels / w.dim(1), activation: act, name: conv)
    }

    /// Squeeze-and-excitation: global mean, `reduce` (1x1 conv or Linear, with `act`), `expand` (with `gate`),
    /// then x times the gate per channel. The two small layers stay fp32.
    func squeezeExcite(
        _ sd: StateDict, _ x: Int, reduce: String, expand: String, act: Activation, gate: Activation
    ) throws -> Int {
        var g = globalAvgPool(x)
        g = try linear(
            g, weight: sd.tensor(reduce + ".weight"), bias: sd.optionalVector(reduce + ".bias"), activation: act,
            name: reduce)
        keepFloat(g)
        g = try linear(
            g, weight: sd.tensor(expand + ".weight"), bias: sd.optionalVector(expand + ".bias"), activation: gate,
            name: expand)
        keepFloat(g)
        return try channelScale(x, gate: g)
    }

    /// torchvision's inverted residual block (MobileNetV3, EfficientNet) at `prefix` (`...block.`): its numbered
    /// layers in order, each a convolution `k.0` with BatchNorm `k.1` (`act`, none on the last; the depthwise one
    /// takes the stride) or a squeeze-and-excitation `k.fc1`/`k.fc2` (`seAct`, `seGate`); the residual add where
    /// the stride is 1 and the shape unchanged. `depthwiseKernel`, when given, is what the depthwise kernel must be.
    func invertedResidual(
        _ sd: StateDict, _ x: Int, prefix p: String, stride: Int, act: Activation, seAct: Activation,
        seGate: Activation, eps: Float, depthwiseKernel: Int? = nil
    ) throws -> Int {
        let layers = ArchitectureRecognizer.indices(sd, prefix: p)
        var y = x
        for (j, k) in layers.enumerated() {
            let q = p + "\(k)."
            if sd.has(q + "fc1.weight") {
                y = try squeezeExcite(sd, y, reduce: q + "fc1", expand: q + "fc2", act: seAct, gate: seGate)
                continue
            }
            let w = try sd.tensor(q + "0.weight")
            let depthwise = w.dim(1) == 1 && w.dim(2) > 1
            if depthwise, let kernel = depthwiseKernel, w.dim(2) != kernel {
                throw MLRCError.format(
                    "\(p): a \(w.dim(2))x\(w.dim(3)) depthwise kernel where the family's table says \(kernel)")
            }
            y = try torchConv(
                sd, y, q + "0", bn: q + "1", stride: depthwise ? stride : 1, act: j == layers.count - 1 ? .none : act,
                eps: eps)
        }
        return stride == 1 && shape(x) == shape(y) ? try add(y, x) : y
    }

    /// The classifier at `prefix` on a pooled 1x1 value: `prefix.weight` (one Linear), or the Linears of a
    /// Sequential (`prefix.N.weight`, in index order; Dropout and activations leave no weights) with `between`
    /// after every one but the last: a fine-tuned head such as Sequential(Dropout, Linear) fits either way.
    /// Returns the logits' value and the class count.
    func classifier(_ sd: StateDict, _ x: Int, prefix: String, between: Activation = .relu) throws -> (Int, Int) {
        let layers = ArchitectureRecognizer.linearLayers(sd, prefix: prefix)
        guard !layers.isEmpty else {
            throw MLRCError.format("checkpoint lacks the classifier \(prefix).weight (or \(prefix).N.weight)")
        }
        var y = x
        for (i, name) in layers.enumerated() {
            let last = i == layers.count - 1
            y = try linear(
                y, weight: sd.tensor(name + ".weight"), bias: sd.optionalVector(name + ".bias"),
                activation: last ? .none : between, name: name)
        }
        return (y, shape(y).channels)
    }
}

extension ArchitectureRecognizer {
    /// `prefix` itself when it holds a Linear weight, else its numbered children that do, in index order.
    static func linearLayers(_ sd: StateDict, prefix: String) -> [String] {
        func isLinear(_ name: String) -> Bool {
            guard let w = sd.tensors[name + ".weight"] else { return false }
            return w.rank == 2 || (w.rank == 4 && w.dim(2) == 1 && w.dim(3) == 1)
        }
        if isLinear(prefix) { return [prefix] }
        let children = Set(
            sd.tensors.keys.compactMap { key -> Int? in
                guard key.hasPrefix(prefix + "."), key.hasSuffix(".weight") else { return nil }
                let middle = key.dropFirst(prefix.count + 1).dropLast(".weight".count)
                return Int(middle)
            })
        return children.sorted().map { "\(prefix).\($0)" }.filter(isLinear)
    }

    /// The sorted indices i for which some name starts with "\(prefix)\(i)." (not necessarily contiguous:
    /// torchvision numbers the activations and pools of a Sequential too).
    static func indices(_ sd: StateDict, prefix: String) -> [Int] {
        Set(
            sd.tensors.keys.compactMap { key -> Int? in
                guard key.hasPrefix(prefix) else { return nil }
                return Int(key.dropFirst(prefix.count).prefix { $0 != "." })
            }
        ).sorted()
    }
}
