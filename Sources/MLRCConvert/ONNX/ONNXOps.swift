import MLRCRuntime

/// What follows a weighted op and folds into it: BatchNorm, bias adds, per-channel scales, layout transposes, then an
/// activation.
struct ONNXEpilogue {
    var scale: [Float]
    var shift: [Float]
    var activation: Activation = .none
    var layout: ONNXLayout
    /// The ONNX value the fused result stands for.
    var exit: String
    var consumed: [Int] = []
}

extension ONNXGraphImporter {
    func emit(_ i: Int) throws {
        let node = nodes[i]
        guard node.domain.isEmpty else {
            throw error(
                node,
                "op '\(node.opType)' of domain '\(node.domain)' is not supported; mlrc imports the "
                    + "default ONNX domain's ops: \(ONNXImporter.supportedOps.joined(separator: ", "))")
        }
        let inputs = try node.inputs.map { $0.isEmpty ? nil : try value($0, node) }
        // Constant subexpressions are evaluated here, whatever they compute.
        let allConstant = inputs.allSatisfy { v in if case .constant? = v { return true } else { return v == nil } }
        if node.opType == "Constant" {
            values[node.outputs.first ?? ""] = .constant(try constantNode(node))
            return
        }
        if allConstant && !inputs.isEmpty && ONNXConstantFolding.foldable.contains(node.opType) {
            let cs = inputs.map { v -> ONNXConstant? in if case .constant(let c)? = v { return c } else { return nil } }
            let out = try ONNXConstantFolding.fold(node, cs, opset: opset, model: model)
            for (name, c) in zip(node.outputs, out) { values[name] = .constant(c) }
            if node.opType == "DequantizeLinear", let s = cs.count > 1 ? cs[1] : nil, let o = node.outputs.first {
                dequantizedScales[o] = s.floats
            }
            return
        }
        switch node.opType {
        case "Conv": try conv(i)
        case "Gemm", "MatMul": try gemm(i)
        case "BatchNormalization": try standaloneAffine(i, scale: nil, shift: nil)
        case "Add", "Sub", "Mul", "Div": try arithmetic(i)
        case "Relu", "Sigmoid", "HardSigmoid", "HardSwish", "Clip", "LeakyRelu", "Gelu", "Tanh", "Erf", "Pow", "Sqrt",
            "Neg", "Min", "Max", "Softplus":
            try activationNode(i)
        case "Identity", "Dropout":
            values[node.outputs[0]] = try value(node.inputs[0], node)
        case "Cast":
            let to = node.int("to") ?? 1
            guard to == 1 || to == 10 || to == 11 else { throw error(node, "cast of a feature map to type \(to)") }
            values[node.outputs[0]] = try value(node.inputs[0], node)
        case "Concat": try concat(i)
        case "Split": try split(i)
        case "Slice": try slice(i)
        case "Reshape", "Flatten", "Squeeze", "Unsqueeze": try reshape(i)
        case "Transpose": try transpose(i)
        case "GlobalAveragePool", "GlobalMaxPool":
            let (x, layout) = try feature(node.inputs[0], node)
            guard layout == .nchw else { throw error(node, "global pooling of a channels-last view") }
            let s = builder.shape(x)
            let out =
                node.opType == "GlobalAveragePool"
                ? builder.globalAvgPool(x)
                : try builder.pool(
                    x, max: true,
                    window: Window(
                        kernelH: Int32(s.height), kernelW: Int32(s.width), strideH: 1, strideW: 1, padTop: 0,
                        padLeft: 0,
                        padBottom: 0, padRight: 0), countIncludePad: false)
            values[node.outputs[0]] = .feature(out, .nchw)
        case "ReduceMean": try reduceMean(i)
        case "MaxPool", "AveragePool": try pool(i)
        case "LayerNormalization": try layerNormalization(i)
        case "Softmax", "LogSoftmax":
            guard graphOutputs.contains(node.outputs[0]) else {
                throw error(
                    node, "\(node.opType) inside the network (mlrc drops it only at the output, returning logits)")
            }
            values[node.outputs[0]] = try value(node.inputs[0], node)
            note("\(node.opType) at the output dropped: the model returns logits (same top-5 order)")
        case "Shape", "Size":
            let dims = onnxDims(try value(node.inputs[0], node))
            values[node.outputs[0]] = .constant(
                node.opType == "Size"
                    ? ONNXConstant(ints: [Int64(dims.reduce(1, *))], dims: [])
                    : ONNXConstant(ints: try ONNXConstantFolding.shapeSlice(dims.map { Int64($0) }, node)))
        case "Pad": try pad(i)
        case "Gather": try gatherChannels(i)
        case "QuantizeLinear", "DequantizeLinear": try fakeQuantization(i)
        default:
            throw error(
                node,
                "op '\(node.opType)' is not supported. mlrc imports: "
                    + ONNXImporter.supportedOps.joined(separator: ", "))
        }
    }

    /// The dims ONNX sees for a value.
    func onnxDims(_ v: ONNXValue) -> [Int] {
        switch v {
        case .feature(let x, let l): return l.dims(builder.shape(x))
        case .flattened(let x): return [1, builder.shape(x).count]
        case .grouped(let x, let g, let t):
            let s = builder.shape(x)
            return [1, t ? s.channels / g : g, t ? g : s.channels / g, s.height, s.width]
        case .padded(let x, let t, let l, let b, let r):
            let s = builder.shape(x)
            return [1, s.channels, s.height + t + b, s.width + l + r]
        case .constant(let c): return c.dims
        }
    }

    private func constantNode(_ node: ONNXNode) throws -> ONNXConstant {
        if let t = node.attributes["value"]?.t { return try decoder.decode(t, in: model) }
        if let f = node.float("value_float") { return ONNXConstant(dims: [], floats: [f]) }
        if let f = node.attributes["value_floats"]?.floats { return ONNXConstant(dims: [f.count], floats: f) }
        if let i = node.int("value_int") { return ONNXConstant(ints: [i], dims: []) }
        if let i = node.ints("value_ints") { return ONNXConstant(ints: i) }
        throw error(node, "a Constant without a tensor, float or integer value")
    }

    // MARK: weighted ops

    /// Follows the single-consumer chain after a weighted op producing `name` (`channels` channels in `layout`).
    func epilogue(after name: String, channels: Int, layout: ONNXLayout, first: Int) throws -> ONNXEpilogue {
        var e = ONNXEpilogue(
            scale: [Float](repeating: 1, count: channels), shift: [Float](repeating: 0, count: channels),
            layout: layout, exit: name)
        chain: while let c = soleConsumer(e.exit) {
            let n = nodes[c]
            let other = n.inputs.first { $0 != e.exit && !$0.isEmpty }
            switch n.opType {
            case "BatchNormalization":
                guard n.inputs.count >= 5, n.inputs[0] == e.exit,
                    n.outputs.count == 1 || n.outputs[1...].allSatisfy({ consumers[$0] == nil }),
                    let g = try constant(n.inputs[1]), let b = try constant(n.inputs[2]),
                    let m = try constant(n.inputs[3]), let v = try constant(n.inputs[4]),
                    [g, b, m, v].allSatisfy({ $0.count == channels }), e.layout == .nchw || e.layout == .vector
                else { break chain }
                let eps = n.float("epsilon") ?? 1e-5
                for k in 0..<channels {
                    let s = g.floats[k] / (v.floats[k] + eps).squareRoot()
                    e.scale[k] *= s
                    e.shift[k] = (e.shift[k] - m.floats[k]) * s + b.floats[k]
                }
            case "Add", "Sub", "Mul", "Div":
                guard n.inputs.count == 2, let other, let k = try constant(other),
                    let vec = channelVector(k, layout: e.layout, channels: channels)
                else { break chain }
                let first = n.inputs[0] == e.exit
                switch n.opType {
                case "Add": for j in 0..<channels { e.shift[j] += vec[j] }
                case "Sub":
                    for j in 0..<channels {
                        if first {
                            e.shift[j] -= vec[j]
                        } else {
                            e.scale[j] = -e.scale[j]
                            e.shift[j] = vec[j] - e.shift[j]
                        }
                    }
                case "Mul": for j in 0..<channels { e.scale[j] *= vec[j]; e.shift[j] *= vec[j] }
                default:
                    guard first else { break chain }
                    for j in 0..<channels { e.scale[j] /= vec[j]; e.shift[j] /= vec[j] }
                }
            case "Transpose":
                let perm = n.ints("perm") ?? []
                if e.layout == .nchw && perm == [0, 2, 3, 1] {
                    e.layout = .nhwc
                } else if e.layout == .nhwc && perm == [0, 3, 1, 2] {
                    e.layout = .nchw
                } else {
                    break chain
                }
            case "Identity", "Dropout":
                guard n.outputs.count == 1 || n.outputs[1...].allSatisfy({ consumers[$0] == nil }) else { break chain }
            default:
                break chain
            }
            e.consumed.append(c)
            done.insert(c)
            e.exit = n.outputs[0]
        }
        if let m = activation(from: e.exit, exclusive: true, first: first) {
            e.activation = m.activation
            e.exit = m.exit
            e.consumed += m.nodes
            done.formUnion(m.nodes)
        }
        return e
    }

    func paddingAttributes(
        _ node: ONNXNode, input s: Shape, kernel: (Int, Int), stride: (Int, Int),
        dilation: (Int, Int) = (1, 1)
    ) throws -> (Int, Int, Int, Int) {
        let autoPad = node.string("auto_pad") ?? "NOTSET"
        switch autoPad {
        case "NOTSET", "":
            let p = node.ints("pads") ?? [0, 0, 0, 0]
            guard p.count == 4, p.allSatisfy({ $0 >= 0 && $0 <= 1024 }) else { throw error(node, "pads \(p)") }
            return (Int(p[0]), Int(p[1]), Int(p[2]), Int(p[3]))
        case "VALID":
            return (0, 0, 0, 0)
        case "SAME_UPPER", "SAME_LOWER":
            func same(_ n: Int, _ k: Int, _ st: Int) -> (Int, Int) {
                let out = (n + st - 1) / st
                let total = max((out - 1) * st + k - n, 0)
                return autoPad == "SAME_UPPER" ? (total / 2, total - total / 2) : (total - total / 2, total / 2)
            }
            let (t, b) = same(s.height, kernel.0, stride.0), (l, r) = same(s.width, kernel.1, stride.1)
            return (t, l, b, r)
        default:
            throw error(node, "auto_pad \(autoPad)")
        }
    }

    func pair(_ node: ONNXNode, _ name: String, default d: Int) throws -> (Int, Int) {
        guard let v = node.ints(name) else { return (d, d) }
        guard v.count == 2, v.allSatisfy({ $0 >= 1 && $0 <= 1024 }) else {
            throw error(node, "\(name) \(v) (mlrc reads 2-D images)")
        }
        return (Int(v[0]), Int(v[1]))
    }

    func conv(_ i: Int) throws {
        let node = nodes[i]
        var x: Int
        var extra = (0, 0, 0, 0)
        switch try value(node.inputs[0], node) {
        case .padded(let v, let t, let l, let b, let r): (x, extra) = (v, (t, l, b, r))
        case .feature(let v, .sequence):
            try channelConv1d(i, v)
            return
        default:
            let (v, layout) = try feature(node.inputs[0], node)
            guard layout == .nchw else { throw error(node, "Conv of a channels-last view") }
            x = v
        }
        guard let w = try constant(node.input(1)), w.dims.count == 4 else {
            throw error(node, "Conv needs a constant 4-D weight (2-D convolution)")
        }
        let b = try constant(node.input(2))
        if node.input(2) != nil && b == nil { throw error(node, "Conv bias must be a constant") }
        let groups = Int(node.int("group") ?? 1)
        guard groups >= 1, groups <= 1 << 16 else { throw error(node, "group \(groups)") }
        let stride = try pair(node, "strides", default: 1)
        let dilation = try pair(node, "dilations", default: 1)
        var weight = HostTensor(shape: w.dims, data: w.floats)
        if dilation != (1, 1) {
            guard (w.dims[2] - 1) * dilation.0 < 255, (w.dims[3] - 1) * dilation.1 < 255 else {
                throw error(node, "dilation \(dilation) of a \(w.dims[2])x\(w.dims[3]) kernel spans over 255 pixels")
            }
            weight = dilate(weight, dilation)
            note("dilated convolutions run as dense kernels with zeros between the taps")
        }
        let s = builder.shape(x)
        var (t, l, bo, r) = try paddingAttributes(
            node, input: s, kernel: (weight.shape[2], weight.shape[3]), stride: stride)
        (t, l, bo, r) = (t + extra.0, l + extra.1, bo + extra.2, r + extra.3)
        let cout = w.dims[0]
        if let b, b.count != cout { throw error(node, "bias of \(b.count) values for \(cout) channels") }
        let e = try epilogue(after: node.outputs[0], channels: cout, layout: .nchw, first: i)
        let out = try emitWeighted(
            x, weight: weight, bias: b?.floats, epilogue: e, node: node, stride: stride,
            padding: .explicit(top: t, left: l, bottom: bo, right: r), groups: groups)
        values[e.exit] = .feature(out, e.layout)
    }

    /// A convolution with its epilogue folded in; notes imported QDQ weight scales.
    func emitWeighted(
        _ x: Int, weight w: HostTensor, bias: [Float]?, epilogue e: ONNXEpilogue, node: ONNXNode,
        stride: (Int, Int) = (1, 1), padding: GraphBuilder.Padding = .symmetric(0, 0), groups: Int = 1
    ) throws -> Int {
        let cout = w.shape[0]
        var weight = w
        let per = w.count / max(cout, 1)
        for o in 0..<cout where e.scale[o] != 1 {
            for k in 0..<per { weight.data[o * per + k] *= e.scale[o] }
        }
        let b = (0..<cout).map { (bias?[$0] ?? 0) * e.scale[$0] + e.shift[$0] }
        let hasBias = bias != nil || e.shift.contains { $0 != 0 }
        let name = node.name.isEmpty ? node.outputs[0] : node.name
        let nodeIndex = builder.nodes.count
        let out = try builder.conv(
            x, weight: weight, bias: hasBias ? b : nil, stride: stride, padding: padding, groups: groups,
            activation: e.activation, name: name)
        if let weightName = node.input(1), let scales = dequantizedScales[weightName] {
            let s = scales.count == 1 ? [Float](repeating: scales[0], count: cout) : scales
            if s.count == cout { weightScales[nodeIndex] = (0..<cout).map { s[$0] * abs(e.scale[$0]) } }
        }
        return out
    }

    /// A Conv1d of one filter sliding over the channels of a one-pixel map ([1, 1, C], as Efficient Channel
    /// Attention writes it): a C x C banded fully connected layer.
    private func channelConv1d(_ i: Int, _ x: Int) throws {
        let node = nodes[i]
        let c = builder.shape(x).channels
        guard let w = try constant(node.input(1)), w.dims.count == 3, w.dims[0] == 1, w.dims[1] == 1,
            (node.int("group") ?? 1) == 1, (node.ints("strides") ?? [1]) == [1], (node.ints("dilations") ?? [1]) == [1]
        else { throw error(node, "Conv over a channel sequence other than one filter, stride 1 (ECA)") }
        let k = w.dims[2]
        let pads = node.ints("pads") ?? [0, 0]
        guard pads.allSatisfy({ $0 >= 0 && $0 <= 4096 }), k <= 4096 else { throw error(node, "pads \(pads)") }
        let autoPad = node.string("auto_pad") ?? "NOTSET"
        var left = pads.count == 2 ? Int(pads[0]) : 0, right = pads.count == 2 ? Int(pads[1]) : 0
        if autoPad.hasPrefix("SAME") { (left, right) = ((k - 1) / 2 + (autoPad == "SAME_LOWER" ? (k - 1) % 2 : 0), 0) }
        guard c + left + right - k + 1 == c || autoPad.hasPrefix("SAME"), c <= 8192 else {
            throw error(node, "Conv1d over \(c) channels that changes their count")
        }
        var banded = [Float](repeating: 0, count: c * c)
        for o in 0..<c {
            for j in 0..<k {
                let src = o + j - left
                if src >= 0 && src < c { banded[o * c + src] = w.floats[j] }
            }
        }
        let bias = try constant(node.input(2)).map { [Float](repeating: $0.floats.first ?? 0, count: c) }
        let e = try epilogue(after: node.outputs[0], channels: c, layout: .sequence, first: i)
        let out = try emitWeighted(
            x, weight: HostTensor(shape: [c, c, 1, 1], data: banded), bias: bias, epilogue: e, node: node)
        builder.keepFloat(out)  // a gate's few thousand MACs: int8 noise there scales a whole map
        values[e.exit] = .feature(out, e.layout)
    }

    private func dilate(_ w: HostTensor, _ d: (Int, Int)) -> HostTensor {
        let (o, c, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
        let (eh, ew) = ((kh - 1) * d.0 + 1, (kw - 1) * d.1 + 1)
        var data = [Float](repeating: 0, count: o * c * eh * ew)
        for p in 0..<(o * c) {
            for y in 0..<kh {
                for xx in 0..<kw { data[(p * eh + y * d.0) * ew + xx * d.1] = w.data[(p * kh + y) * kw + xx] }
            }
        }
        return HostTensor(shape: [o, c, eh, ew], data: data)
    }

    func gemm(_ i: Int) throws {
        let node = nodes[i]
        let a = try value(node.inputs[0], node)
        guard node.inputs.count >= 2, let bConst = try constant(node.inputs[1]), bConst.dims.count == 2 else {
            throw error(node, "\(node.opType) needs a constant 2-D second input (a fully connected layer)")
        }
        var weight: HostTensor  // [out, in]
        var bias: [Float]?
        if node.opType == "Gemm" {
            guard (node.int("transA") ?? 0) == 0 else { throw error(node, "Gemm with transA") }
            let alpha = node.float("alpha") ?? 1, beta = node.float("beta") ?? 1
            let bt = (node.int("transB") ?? 0) != 0 ? bConst : try ONNXConstantFolding.transpose(bConst, perm: [1, 0])
            weight = HostTensor(shape: bt.dims, data: alpha == 1 ? bt.floats : bt.floats.map { $0 * alpha })
            if let c = try constant(node.input(2)) {
                guard c.count == weight.shape[0] || c.count == 1 else { throw error(node, "Gemm bias of \(c.dims)") }
                bias = (c.count == 1 ? [Float](repeating: c.floats[0], count: weight.shape[0]) : c.floats).map {
                    $0 * beta
                }
            } else if node.input(2) != nil {
                throw error(node, "Gemm bias must be a constant")
            }
        } else {
            let bt = try ONNXConstantFolding.transpose(bConst, perm: [1, 0])
            weight = HostTensor(shape: bt.dims, data: bt.floats)
        }
        let (out, inFeatures) = (weight.shape[0], weight.shape[1])
        let x: Int, layout: ONNXLayout
        switch a {
        case .flattened(let v):
            let s = builder.shape(v)
            guard s.count == inFeatures else { throw error(node, "\(s.count) inputs for a weight of \(inFeatures)") }
            weight = HostTensor(shape: [out, s.channels, s.height, s.width], data: weight.data)
            let e = try epilogue(after: node.outputs[0], channels: out, layout: .vector, first: i)
            let y = try emitWeighted(v, weight: weight, bias: bias, epilogue: e, node: node)
            values[e.exit] = .feature(y, e.layout)
            return
        case .feature(let v, let l):
            (x, layout) = (v, l)
        default:
            _ = try feature(node.inputs[0], node)
            return
        }
        let s = builder.shape(x)
        switch layout {
        case .vector, .channels: break
        case .nhwc where node.opType == "MatMul": break
        default:
            guard s.pixels == 1 else {
                throw error(
                    node,
                    "\(node.opType) over a \(layout == .nchw ? "NCHW" : "NHWC") map of \(s); mlrc reads "
                        + "fully connected layers on vectors and channels-last maps")
            }
        }
        guard s.channels == inFeatures else {
            throw error(node, "\(s.channels) input features for a weight of \(inFeatures)")
        }
        let outLayout: ONNXLayout = layout == .nchw ? .vector : layout
        let e = try epilogue(after: node.outputs[0], channels: out, layout: outLayout, first: i)
        let y = try emitWeighted(
            x, weight: HostTensor(shape: [out, inFeatures, 1, 1], data: weight.data), bias: bias, epilogue: e,
            node: node)
        values[e.exit] = .feature(y, e.layout)
    }

    /// BatchNormalization (or an Add/Mul by per-channel constants) that follows no weighted op: a channel affine.
    func standaloneAffine(_ i: Int, scale: [Float]?, shift: [Float]?) throws {
        let node = nodes[i]
        let (x, layout) = try feature(node.inputs[0], node)
        let c = builder.shape(x).channels
        var s = scale ?? [Float](repeating: 1, count: c), t = shift ?? [Float](repeating: 0, count: c)
        if node.opType == "BatchNormalization" {
            guard node.inputs.count >= 5, let g = try constant(node.inputs[1]), let b = try constant(node.inputs[2]),
                let m = try constant(node.inputs[3]), let v = try constant(node.inputs[4]),
                [g, b, m, v].allSatisfy({ $0.count == c })
            else { throw error(node, "BatchNormalization needs constant parameters of \(c) values") }
            guard layout != .nhwc else { throw error(node, "BatchNormalization of a channels-last view") }
            let eps = node.float("epsilon") ?? 1e-5
            for k in 0..<c {
                s[k] = g.floats[k] / (v.floats[k] + eps).squareRoot()
                t[k] = b.floats[k] - m.floats[k] * s[k]
            }
        }
        let e = try epilogue(after: node.outputs[0], channels: c, layout: layout, first: i)
        let scaleAll = (0..<c).map { s[$0] * e.scale[$0] }, shiftAll = (0..<c).map { t[$0] * e.scale[$0] + e.shift[$0] }
        let out = try builder.channelAffine(x, scale: scaleAll, shift: shiftAll, activation: e.activation)
        values[e.exit] = .feature(out, e.layout)
    }
}
