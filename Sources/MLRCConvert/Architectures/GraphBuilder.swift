import MLRCRuntime

/// Builds an mlrc graph from PyTorch-layout weights: converts layouts (OIHW -> the kernels' K x N),
/// folds BatchNorm and LayerNorm affines into neighbouring weights, and tracks value shapes.
public final class GraphBuilder {
    public private(set) var nodes: [Node] = []
    public private(set) var tensors: [HostTensor] = []
    public private(set) var shapes: [Shape]
    /// The checkpoint module each convolution came from ("_blocks.3._expand_conv"), by node index: how
    /// quantize reports layers and how --keep-fp32 names them.
    public private(set) var nodeNames: [Int: String] = [:]
    /// Convolutions that stay fp32 whatever the precision: the small fully connected layers of a
    /// squeeze-and-excitation gate (a few thousand MACs each; int8 noise there multiplies a whole feature map).
    public private(set) var floatOnly: Set<Int> = []

    public init(input: Shape) { shapes = [input] }

    /// An RGB input of size x size.
    public convenience init(squareInput size: Int) { self.init(input: Shape(height: size, width: size, channels: 3)) }

    public func shape(_ v: Int) -> Shape { shapes[v] }

    private func add(_ node: Node, _ out: Shape) -> Int {
        nodes.append(node)
        shapes.append(out)
        return shapes.count - 1
    }

    func tensor(_ dims: [Int], _ data: [Float]) -> Int {
        tensors.append(HostTensor(shape: dims, data: data))
        return tensors.count - 1
    }

    /// Replaces tensor t's values with as many others, for passes that rewrite a built network without changing
    /// what it computes (ChannelPairing); false when the count differs.
    func replaceValues(of t: Int, with data: [Float]) -> Bool {
        guard tensors.indices.contains(t), tensors[t].count == data.count else { return false }
        tensors[t].data = data
        return true
    }

    /// Padding for a kernel: symmetric (PyTorch `padding=`) or TensorFlow "same" (extra on the bottom/right).
    public enum Padding {
        case symmetric(Int, Int)
        case same
        case explicit(top: Int, left: Int, bottom: Int, right: Int)
    }

    func resolve(_ p: Padding, in s: Shape, kernel: (Int, Int), stride: (Int, Int)) -> (Int, Int, Int, Int) {
        switch p {
        case .symmetric(let ph, let pw): return (ph, pw, ph, pw)
        case .explicit(let t, let l, let b, let r): return (t, l, b, r)
        case .same:
            func same(_ n: Int, _ k: Int, _ st: Int) -> (Int, Int) {
                let out = (n + st - 1) / st
                let total = max((out - 1) * st + k - n, 0)
                return (total / 2, total - total / 2)
            }
            let (t, b) = same(s.height, kernel.0, stride.0), (l, r) = same(s.width, kernel.1, stride.1)
            return (t, l, b, r)
        }
    }

    /// A convolution from a PyTorch weight [Cout, Cin/groups, kH, kW] (and optional per-channel scale
    /// folded from a following BatchNorm). Depthwise convolutions become depthwise nodes.
    @discardableResult
    public func conv(
        _ x: Int, weight w: HostTensor, bias: [Float]?, stride: (Int, Int) = (1, 1), padding: Padding,
        groups: Int = 1, activation: Activation = .none, name: String? = nil
    ) throws -> Int {
        if let name { nodeNames[nodes.count] = name }
        guard w.rank == 4 else { throw MLRCError.format("conv weight must be 4-D, got \(w.shape)") }
        let s = shapes[x]
        let (cout, cinG, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
        guard cinG * groups == s.channels, cout % groups == 0 else {
            throw MLRCError.format("conv weight \(w.shape) with groups \(groups) does not fit input \(s)")
        }
        if let bias, bias.count != cout {
            throw MLRCError.format("conv bias has \(bias.count) values for \(cout) channels")
        }
        guard kh >= 1, kw >= 1, kh <= 255, kw <= 255, stride.0 >= 1, stride.1 >= 1 else {
            throw MLRCError.format("conv kernel \(kh)x\(kw) / stride \(stride) out of range")
        }
        let (pt, pl, pb, pr) = resolve(padding, in: s, kernel: (kh, kw), stride: stride)
        guard s.height + pt + pb >= kh, s.width + pl + pr >= kw else {
            throw MLRCError.format("conv kernel \(kh)x\(kw) larger than its input \(s)")
        }
        let out = Shape(
            height: (s.height + pt + pb - kh) / stride.0 + 1, width: (s.width + pl + pr - kw) / stride.1 + 1,
            channels: cout)
        let window = Window(
            kernelH: Int32(kh), kernelW: Int32(kw), strideH: Int32(stride.0), strideW: Int32(stride.1),
            padTop: Int32(pt), padLeft: Int32(pl), padBottom: Int32(pb), padRight: Int32(pr))
        var weights: [Int]
        if groups == s.channels && cinG == 1 && cout == s.channels {
            // Depthwise: [kH][kW][C]
            var data = [Float](repeating: 0, count: kh * kw * cout)
            for c in 0..<cout { for i in 0..<(kh * kw) { data[i * cout + c] = w.data[c * kh * kw + i] } }
            weights = [tensor([kh, kw, cout], data)]
            if let bias { weights.append(tensor([cout], bias)) }
            return add(
                Node(.depthwiseConv(window, activation: activation.rawValue), inputs: [x], weights: weights), out)
        }
        // General: [g][(ky, kx, ci)][co_g]
        let coutG = cout / groups, k = kh * kw * cinG
        var data = [Float](repeating: 0, count: groups * k * coutG)
        for g in 0..<groups {
            for co in 0..<coutG {
                let o = g * coutG + co
                for ci in 0..<cinG {
                    for ky in 0..<kh {
                        for kx in 0..<kw {
                            let src = ((o * cinG + ci) * kh + ky) * kw + kx
                            let row = (ky * kw + kx) * cinG + ci
                            data[(g * k + row) * coutG + co] = w.data[src]
                        }
                    }
                }
            }
        }
        weights = [tensor([groups, k, coutG], data)]
        if let bias { weights.append(tensor([cout], bias)) }
        return add(
            Node(
                .conv(window, groups: Int32(groups), outChannels: Int32(cout), activation: activation.rawValue),
                inputs: [x], weights: weights), out)
    }

    /// A fully connected layer [out, in] (or a 1x1 convolution's [out, in, 1, 1]) on a 1x1 map (after global
    /// pooling): a 1x1 convolution.
    @discardableResult
    public func linear(
        _ x: Int, weight w: HostTensor, bias: [Float]?, activation: Activation = .none,
        name: String? = nil
    ) throws -> Int {
        guard w.rank == 2 || (w.rank == 4 && w.shape[2] == 1 && w.shape[3] == 1) else {
            throw MLRCError.format("linear weight must be 2-D, got \(w.shape)")
        }
        let as4 = HostTensor(shape: [w.shape[0], w.shape[1], 1, 1], data: w.data)
        return try conv(x, weight: as4, bias: bias, padding: .symmetric(0, 0), activation: activation, name: name)
    }

    public func layerNorm(_ x: Int, gamma: [Float]?, beta: [Float]?, eps: Float) throws -> Int {
        if let gamma, let beta, gamma.count != shapes[x].channels || beta.count != shapes[x].channels {
            throw MLRCError.format("LayerNorm of \(gamma.count) channels on a \(shapes[x]) input")
        }
        var weights: [Int] = []
        if let gamma, let beta { weights = [tensor([gamma.count], gamma), tensor([beta.count], beta)] }
        return add(Node(.layerNorm(eps: eps, output: nil), inputs: [x], weights: weights), shapes[x])
    }

    public func add(_ a: Int, _ b: Int, activation: Activation = .none) throws -> Int {
        guard shapes[a] == shapes[b] else { throw MLRCError.format("add of shapes \(shapes[a]) and \(shapes[b])") }
        return add(Node(.add(activation: activation.rawValue), inputs: [a, b]), shapes[a])
    }

    public func concat(_ xs: [Int]) throws -> Int {
        guard xs.allSatisfy({ shapes[$0].height == shapes[xs[0]].height && shapes[$0].width == shapes[xs[0]].width })
        else {
            throw MLRCError.format("concat of different spatial sizes")
        }
        let c = xs.map { shapes[$0].channels }.reduce(0, +)
        return add(
            Node(.concat, inputs: xs), Shape(height: shapes[xs[0]].height, width: shapes[xs[0]].width, channels: c))
    }

    /// Max or average pooling; `ceilMode` as PyTorch's: the output size rounds up (a last window that starts inside
    /// the input or its left padding), done as extra padding at the bottom and right that no window counts.
    public func pool(
        _ x: Int, max isMax: Bool, kernel: Int, stride: Int, padding: Int, countIncludePad: Bool = true,
        ceilMode: Bool = false
    ) throws -> Int {
        let s = shapes[x]
        guard s.height + 2 * padding >= kernel, s.width + 2 * padding >= kernel, stride >= 1 else {
            throw MLRCError.format("pooling window \(kernel) larger than its input \(s)")
        }
        func size(_ n: Int) -> (out: Int, extra: Int) {
            let span = n + 2 * padding - kernel
            var out = span / stride + 1
            if ceilMode && span % stride != 0 {
                out += 1
                if (out - 1) * stride >= n + padding { out -= 1 }
            }
            return (out, max((out - 1) * stride + kernel - (n + 2 * padding), 0))
        }
        let (h, w) = (size(s.height), size(s.width))
        guard h.extra == 0 && w.extra == 0 || isMax || !countIncludePad else {
            throw MLRCError.format("ceil-mode average pooling that counts padding is not supported")
        }
        let out = Shape(height: h.out, width: w.out, channels: s.channels)
        let (k, st, p) = (Int32(kernel), Int32(stride), Int32(padding))
        let window = Window(
            kernelH: k, kernelW: k, strideH: st, strideW: st, padTop: p, padLeft: p, padBottom: p + Int32(h.extra),
            padRight: p + Int32(w.extra))
        return add(
            Node(isMax ? .maxPool(window) : .avgPool(window, countIncludePad: countIncludePad), inputs: [x]), out)
    }

    /// Max or average pooling over an explicit window (any kernel, stride and the four paddings).
    public func pool(_ x: Int, max isMax: Bool, window w: Window, countIncludePad: Bool) throws -> Int {
        let s = shapes[x]
        let (kh, kw) = (Int(w.kernelH), Int(w.kernelW)), (sh, sw) = (Int(w.strideH), Int(w.strideW))
        let padH = Int(w.padTop) + Int(w.padBottom), padW = Int(w.padLeft) + Int(w.padRight)
        guard kh >= 1, kw >= 1, sh >= 1, sw >= 1, s.height + padH >= kh, s.width + padW >= kw,
            w.padTop >= 0, w.padLeft >= 0, w.padBottom >= 0, w.padRight >= 0,
            Int(w.padTop) < kh, Int(w.padLeft) < kw
        else {
            throw MLRCError.format("pooling window \(kh)x\(kw) stride \(sh)x\(sw) pads \(w.ints[4...]) on \(s)")
        }
        let out = Shape(
            height: (s.height + padH - kh) / sh + 1, width: (s.width + padW - kw) / sw + 1, channels: s.channels)
        return add(Node(isMax ? .maxPool(w) : .avgPool(w, countIncludePad: countIncludePad), inputs: [x]), out)
    }

    public func globalAvgPool(_ x: Int) -> Int {
        add(Node(.globalAvgPool, inputs: [x]), Shape(height: 1, width: 1, channels: shapes[x].channels))
    }

    public func eca(_ x: Int, kernel: [Float]) throws -> Int {
        guard kernel.count % 2 == 1, kernel.count <= 31 else {
            throw MLRCError.format("ECA kernel of \(kernel.count) taps")
        }
        return add(Node(.eca, inputs: [x], weights: [tensor([kernel.count], kernel)]), shapes[x])
    }

    public func channelAffine(_ x: Int, scale: [Float], shift: [Float], activation: Activation = .none) throws -> Int {
        guard scale.count == shapes[x].channels, shift.count == shapes[x].channels else {
            throw MLRCError.format("channel affine of \(scale.count) channels on a \(shapes[x]) input")
        }
        return add(
            Node(
                .channelAffine(activation: activation.rawValue), inputs: [x],
                weights: [tensor([scale.count], scale), tensor([shift.count], shift)]), shapes[x])
    }

    /// x * gate per channel; the gate is a 1x1xC value.
    public func channelScale(_ x: Int, gate: Int) throws -> Int {
        guard shapes[gate] == Shape(height: 1, width: 1, channels: shapes[x].channels) else {
            throw MLRCError.format("channel gate \(shapes[gate]) for a \(shapes[x]) input")
        }
        return add(Node(.channelScale(output: nil), inputs: [x, gate]), shapes[x])
    }

    /// Channels [offset, offset + count) of x.
    public func slice(_ x: Int, offset: Int, count: Int) throws -> Int {
        let s = shapes[x]
        guard offset >= 0, count >= 1, offset + count <= s.channels else {
            throw MLRCError.format("channels \(offset)..<\(offset + count) of a \(s) value")
        }
        if offset == 0 && count == s.channels { return x }
        return add(
            Node(.channelSlice(offset: Int32(offset), count: Int32(count)), inputs: [x]),
            Shape(height: s.height, width: s.width, channels: count))
    }

    public func channelShuffle(_ x: Int, groups: Int) throws -> Int {
        guard groups >= 1, shapes[x].channels % groups == 0 else {
            throw MLRCError.format("\(shapes[x].channels) channels do not shuffle in \(groups) groups")
        }
        return add(Node(.channelShuffle(groups: Int32(groups)), inputs: [x]), shapes[x])
    }

    /// Gives the op that produced value v a fused activation, when it is a convolution, add or channel affine
    /// without one; false otherwise (the caller adds an activation node instead).
    func fuseActivation(_ v: Int, _ act: Activation) -> Bool {
        guard v >= 1, let p = try? nodes[v - 1].params(), p.activation == Activation.none.rawValue else { return false }
        let fused: OpParams
        switch p {
        case let .conv(w, g, o, _): fused = .conv(w, groups: g, outChannels: o, activation: act.rawValue)
        case let .depthwiseConv(w, _): fused = .depthwiseConv(w, activation: act.rawValue)
        case .add: fused = .add(activation: act.rawValue)
        case .channelAffine: fused = .channelAffine(activation: act.rawValue)
        default: return false
        }
        let old = nodes[v - 1]
        nodes[v - 1] = Node(fused, inputs: old.inputs, weights: old.weights)
        return true
    }

    /// The activation fused into the op that produced value v (none for the input and ops without one).
    func activation(of v: Int) -> Activation {
        guard v >= 1, let p = try? nodes[v - 1].params() else { return .none }
        return Activation(rawValue: p.activation) ?? .none
    }

    /// Marks the node that produced value v as one quantization leaves in fp32.
    func keepFloat(_ v: Int) { if v >= 1 { floatOnly.insert(v - 1) } }

    public func activation(_ x: Int, _ act: Activation) -> Int {
        add(Node(.activation(act.rawValue), inputs: [x]), shapes[x])
    }
}
