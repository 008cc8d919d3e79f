import MLRCRuntime

/// Arithmetic, activations, normalisation and quantization nodes of an ONNX graph.
extension ONNXGraphImporter {
    func arithmetic(_ i: Int) throws {
        let node = nodes[i]
        guard node.inputs.count == 2 else { throw error(node, "\(node.opType) of \(node.inputs.count) inputs") }
        let a = try value(node.inputs[0], node), b = try value(node.inputs[1], node)
        switch (a, b) {
        case (.feature(let x, let lx), .constant(let k)), (.constant(let k), .feature(let x, let lx)):
            let featureFirst = { if case .feature = a { return true } else { return false } }()
            // An elementwise function of x alone (swish written out, GELU's Div or Mul by 1/sqrt 2...)
            if let m = activation(from: node.inputs[featureFirst ? 0 : 1], exclusive: false, first: i),
                m.nodes.contains(i)
            {
                try applyActivation(m, x: x, layout: lx)
                return
            }
            let c = builder.shape(x).channels
            guard let vec = channelVector(k, layout: lx, channels: c) else {
                throw error(
                    node,
                    "\(node.opType) by a constant of shape \(k.dims) on a \(lx) map of \(builder.shape(x)) "
                        + "(mlrc applies constants per channel)")
            }
            var scale = [Float](repeating: 1, count: c), shift = [Float](repeating: 0, count: c)
            switch node.opType {
            case "Add": shift = vec
            case "Sub":
                if featureFirst { shift = vec.map { -$0 } } else { scale = scale.map { _ in -1 }; shift = vec }
            case "Mul": scale = vec
            default:
                guard featureFirst else { throw error(node, "division of a constant by a feature map") }
                scale = vec.map { 1 / $0 }
            }
            try standaloneAffine(i, scale: scale, shift: shift)
        case (.feature(let x, let lx), .feature(let y, let ly)):
            let sx = builder.shape(x), sy = builder.shape(y)
            if node.opType == "Add" || node.opType == "Sub", sx == sy, lx == ly || sx.pixels == 1 {
                var rhs = y
                if node.opType == "Sub" {
                    rhs = try builder.channelAffine(
                        y, scale: [Float](repeating: -1, count: sy.channels),
                        shift: [Float](repeating: 0, count: sy.channels))
                }
                var act = Activation.none
                var exit = node.outputs[0]
                if let m = activation(from: exit, exclusive: true, first: i + 1),
                    m.activation == .relu || m.activation == .relu6 || m.activation == .none
                {
                    act = m.activation
                    exit = m.exit
                    done.formUnion(m.nodes)
                }
                values[exit] = .feature(try builder.add(x, rhs, activation: act), lx)
                return
            }
            if node.opType == "Mul" {
                // An elementwise function of one input (swish: x * sigmoid(x)).
                for (k, name) in node.inputs.enumerated() {
                    if let m = activation(from: name, exclusive: false, first: i), m.nodes.contains(i) {
                        let (v, l) = k == 0 ? (x, lx) : (y, ly)
                        try applyActivation(m, x: v, layout: l)
                        return
                    }
                }
                // A gate of one pixel per channel (squeeze-and-excitation).
                func gateFits(_ gate: Shape, _ gl: ONNXLayout, _ map: Shape, _ ml: ONNXLayout) -> Bool {
                    guard gate.pixels == 1, gate.channels == map.channels else { return false }
                    return gl != .vector || ml == .nhwc || ml == .vector
                }
                if gateFits(sy, ly, sx, lx) && sx.pixels > 1 || (sx == sy && sx.pixels == 1) {
                    values[node.outputs[0]] = .feature(try builder.channelScale(x, gate: y), lx)
                    return
                }
                if gateFits(sx, lx, sy, ly) && sy.pixels > 1 {
                    values[node.outputs[0]] = .feature(try builder.channelScale(y, gate: x), ly)
                    return
                }
            }
            throw error(
                node,
                "\(node.opType) of feature maps \(sx) and \(sy) (mlrc adds maps of one shape and "
                    + "multiplies a map by a per-channel gate)")
        default:
            throw error(node, "\(node.opType) of these inputs (a flattened or padded view)")
        }
    }

    func applyActivation(_ m: ONNXActivationMatcher.Match, x: Int, layout: ONNXLayout) throws {
        done.formUnion(m.nodes)
        values[m.exit] = .feature(m.activation == .none ? x : builder.activation(x, m.activation), layout)
    }

    func activationNode(_ i: Int) throws {
        let node = nodes[i]
        let (x, layout) = try feature(node.inputs[0], node)
        if let m = activation(from: node.inputs[0], exclusive: false, first: i), m.nodes.contains(i) {
            try applyActivation(m, x: x, layout: layout)
            return
        }
        let c = builder.shape(x).channels
        func affine(_ v: Int, _ s: Float, _ t: Float) throws -> Int {
            try builder.channelAffine(
                v, scale: [Float](repeating: s, count: c), shift: [Float](repeating: t, count: c))
        }
        // clip(x, lo, hi) = lo + (hi - lo) / 6 * relu6(6 (x - lo) / (hi - lo))
        func clip(_ v: Int, _ lo: Float, _ hi: Float, inputScale: Float = 1, inputShift: Float = 0) throws -> Int {
            guard lo.isFinite, hi.isFinite, hi > lo else {
                if lo.isFinite && hi == .infinity {  // max(x, lo)
                    let r = builder.activation(try affine(v, inputScale, inputShift - lo), .relu)
                    return try affine(r, 1, lo)
                }
                throw error(node, "Clip to [\(lo), \(hi)]")
            }
            let k = 6 / (hi - lo)
            let r = builder.activation(try affine(v, inputScale * k, (inputShift - lo) * k), .relu6)
            return try affine(r, 1 / k, lo)
        }
        let out: Int
        switch node.opType {
        case "Clip":
            let lo = try constant(node.input(1))?.floats.first ?? node.float("min") ?? -.infinity
            let hi = try constant(node.input(2))?.floats.first ?? node.float("max") ?? .infinity
            out = try clip(x, lo, hi)
        case "HardSigmoid":
            let alpha = node.float("alpha") ?? 0.2, beta = node.float("beta") ?? 0.5
            out = try clip(x, 0, 1, inputScale: alpha, inputShift: beta)
        case "LeakyRelu":
            // leaky(x) = a x + (1 - a) relu(x)
            let alpha = node.float("alpha") ?? 0.01
            let r = try affine(builder.activation(x, .relu), 1 - alpha, 0)
            out = try builder.add(try affine(x, alpha, 0), r)
        default:
            throw error(
                node,
                "\(node.opType) on its own (mlrc runs it only as part of an activation it knows: "
                    + "ReLU, ReLU6, sigmoid, swish, hardswish, hardsigmoid, GELU)")
        }
        values[node.outputs[0]] = .feature(out, layout)
    }

    func reduceMean(_ i: Int) throws {
        let node = nodes[i]
        let (x, layout) = try feature(node.inputs[0], node)
        let rank = layout.rank
        let rawAxes = opset >= 18 ? (try constant(node.input(1)))?.integers : node.ints("axes")
        guard let rawAxes else { throw error(node, "ReduceMean over all axes") }
        let axes = Set(try rawAxes.map { try ONNXConstantFolding.axis($0, rank: rank) })
        let keep = (node.int("keepdims") ?? 1) != 0
        if axes == Set(layout.spatialAxes) && !axes.isEmpty {
            values[node.outputs[0]] = .feature(builder.globalAvgPool(x), keep ? layout : .vector)
            return
        }
        if axes == [layout.channelAxis] && keep, try decomposedLayerNorm(i, x: x, layout: layout) { return }
        throw error(
            node,
            "ReduceMean over axes \(rawAxes.sorted()) of a \(layout) map (mlrc averages over H and W, "
                + "or normalises over channels as LayerNorm)")
    }

    /// mean -> x - mean -> (.)^2 -> mean -> + eps -> sqrt -> (x - mean) / sqrt: a LayerNorm over channels, as exporters
    /// without LayerNormalization (opset < 17) write it.
    private func decomposedLayerNorm(_ i: Int, x: Int, layout: ONNXLayout) throws -> Bool {
        let node = nodes[i]
        let xName = node.inputs[0], u = node.outputs[0]
        func only(_ name: String, _ op: String) -> Int? {
            guard let c = soleConsumer(name), nodes[c].opType == op else { return nil }
            return c
        }
        guard let sub = only(u, "Sub"), nodes[sub].inputs == [xName, u] else { return false }
        let d = nodes[sub].outputs[0]
        guard let dc = consumers[d], dc.count == 2, !graphOutputs.contains(d) else { return false }
        let squareNode = dc.first {
            nodes[$0].opType == "Pow" || (nodes[$0].opType == "Mul" && nodes[$0].inputs == [d, d])
        }
        guard let sq = squareNode, nodes[sq].opType == "Mul" || nodes[sq].input(1).flatMap(scalar) == 2,
            let divNode = dc.first(where: {
                $0 != sq && nodes[$0].opType == "Div" && nodes[$0].inputs.count == 2 && nodes[$0].inputs[0] == d
            }),
            let mean2 = only(nodes[sq].outputs[0], "ReduceMean"),
            let addEps = only(nodes[mean2].outputs[0], "Add"),
            let eps = nodes[addEps].inputs.compactMap({ scalar($0) }).first,
            let sqrtNode = only(nodes[addEps].outputs[0], "Sqrt"),
            nodes[divNode].inputs[1] == nodes[sqrtNode].outputs[0], soleConsumer(nodes[sqrtNode].outputs[0]) == divNode
        else { return false }
        let parts = [i, sub, sq, mean2, addEps, sqrtNode, divNode]
        done.formUnion(parts)
        try emitLayerNorm(
            after: nodes[divNode].outputs[0], x: x, layout: layout, eps: Float(eps), gamma: nil, beta: nil,
            first: i)
        return true
    }

    private func emitLayerNorm(
        after name: String, x: Int, layout: ONNXLayout, eps: Float, gamma: [Float]?,
        beta: [Float]?, first: Int
    ) throws {
        let c = builder.shape(x).channels
        let e = try epilogue(after: name, channels: c, layout: layout, first: first)
        let g = gamma ?? [Float](repeating: 1, count: c), b = beta ?? [Float](repeating: 0, count: c)
        let gamma2 = (0..<c).map { g[$0] * e.scale[$0] }, beta2 = (0..<c).map { b[$0] * e.scale[$0] + e.shift[$0] }
        guard eps > 0, eps < 1 else { throw MLRCError.format("LayerNorm epsilon \(eps)") }
        var y = try builder.layerNorm(x, gamma: gamma2, beta: beta2, eps: eps)
        if e.activation != .none { y = builder.activation(y, e.activation) }
        values[e.exit] = .feature(y, e.layout)
    }

    func layerNormalization(_ i: Int) throws {
        let node = nodes[i]
        let (x, layout) = try feature(node.inputs[0], node)
        let s = builder.shape(x)
        let axis = try ONNXConstantFolding.axis(node.int("axis") ?? -1, rank: layout.rank)
        guard axis == layout.rank - 1, layout != .nchw || s.pixels == 1 else {
            throw error(node, "LayerNormalization over axis \(axis) of a \(layout) map (mlrc normalises over channels)")
        }
        let gamma = try constant(node.input(1)), beta = try constant(node.input(2))
        guard gamma?.count ?? s.channels == s.channels, beta?.count ?? s.channels == s.channels else {
            throw error(node, "LayerNormalization scale and bias must be constants of \(s.channels) values")
        }
        try emitLayerNorm(
            after: node.outputs[0], x: x, layout: layout, eps: node.float("epsilon") ?? 1e-5,
            gamma: gamma?.floats, beta: beta?.floats, first: i + 1)
    }

    func pool(_ i: Int) throws {
        let node = nodes[i]
        let (x, layout) = try feature(node.inputs[0], node)
        guard layout == .nchw else { throw error(node, "pooling of a channels-last view") }
        let isMax = node.opType == "MaxPool"
        guard let k = node.ints("kernel_shape"), k.count == 2, k.allSatisfy({ $0 >= 1 && $0 <= 255 }) else {
            throw error(node, "kernel_shape \(node.ints("kernel_shape") ?? []) (mlrc pools 2-D windows up to 255)")
        }
        if let d = node.ints("dilations"), d.contains(where: { $0 != 1 }) { throw error(node, "dilated pooling") }
        if node.outputs.count > 1 && consumers[node.outputs[1]] != nil { throw error(node, "MaxPool indices output") }
        let kernel = (Int(k[0]), Int(k[1]))
        let stride = try pair(node, "strides", default: 1)
        let s = builder.shape(x)
        var (t, l, b, r) = try paddingAttributes(node, input: s, kernel: kernel, stride: stride)
        if (node.int("ceil_mode") ?? 0) != 0 {
            // PyTorch's rule: round up, but drop a last window that would start in the bottom/right padding
            func extra(_ n: Int, _ k: Int, _ st: Int, _ p0: Int, _ p1: Int) -> Int {
                let span = n + p0 + p1 - k
                guard span % st != 0 else { return 0 }
                var out = span / st + 2
                if (out - 1) * st >= n + p0 { out -= 1 }
                return max((out - 1) * st + k - (n + p0 + p1), 0)
            }
            b += extra(s.height, kernel.0, stride.0, t, b)
            r += extra(s.width, kernel.1, stride.1, l, r)
        }
        let countPad = (node.int("count_include_pad") ?? 0) != 0
        let w = Window(
            kernelH: Int32(kernel.0), kernelW: Int32(kernel.1), strideH: Int32(stride.0), strideW: Int32(stride.1),
            padTop: Int32(t), padLeft: Int32(l), padBottom: Int32(b), padRight: Int32(r))
        values[node.outputs[0]] = .feature(try builder.pool(x, max: isMax, window: w, countIncludePad: countPad), .nchw)
    }

    func pad(_ i: Int) throws {
        let node = nodes[i]
        let (x, layout) = try feature(node.inputs[0], node)
        guard layout == .nchw, (node.string("mode") ?? "constant") == "constant" else {
            throw error(node, "Pad of mode \(node.string("mode") ?? "constant") (mlrc folds zero padding into a Conv)")
        }
        let pads = opset >= 11 ? (try constant(node.input(1)))?.integers : node.ints("pads")
        let fill = opset >= 11 ? (try constant(node.input(2)))?.floats.first ?? 0 : node.float("value") ?? 0
        guard let p = pads, p.count == 8, p[0] == 0, p[1] == 0, p[4] == 0, p[5] == 0, fill == 0,
            p.allSatisfy({ $0 >= 0 && $0 <= 1024 })
        else {
            throw error(node, "Pad \(pads ?? []) with value \(fill) (mlrc folds zero padding of H and W into a Conv)")
        }
        guard let consumer = soleConsumer(node.outputs[0]), nodes[consumer].opType == "Conv" else {
            throw error(node, "Pad that no Conv reads (mlrc folds zero padding into the Conv after it)")
        }
        values[node.outputs[0]] = .padded(x, top: Int(p[2]), left: Int(p[3]), bottom: Int(p[6]), right: Int(p[7]))
    }

    /// QuantizeLinear -> DequantizeLinear on an activation (a QDQ model): the value stays float in the graph and
    /// its scale and zero point are kept for int8 conversion.
    func fakeQuantization(_ i: Int) throws {
        let node = nodes[i]
        if case .feature = try value(node.inputs[0], node) {
        } else {
            // a view (a channel shuffle's 5-D reshape): quantization there does not change what mlrc computes
            values[node.outputs[0]] = try value(node.inputs[0], node)
            return
        }
        let (x, layout) = try feature(node.inputs[0], node)
        guard let scale = try constant(node.input(1)), scale.count == 1, scale.floats[0] > 0,
            scale.floats[0].isFinite
        else { throw error(node, "\(node.opType) of an activation needs one constant positive scale") }
        let zero = try constant(node.input(2))
        guard zero?.count ?? 1 == 1 else { throw error(node, "per-channel activation zero points") }
        if node.opType == "QuantizeLinear" {
            let z = zero?.floats.first ?? 0
            // int8 codes c + 128 are mlrc's uint8 codes on the same grid
            let unsigned = zero?.elementType == .uint8
            guard z.isFinite, z >= -128, z <= 255 else { throw error(node, "zero point \(z)") }
            let zeroPoint = Int32(z) + (unsigned ? 0 : 128)
            guard (0...255).contains(zeroPoint) else { throw error(node, "zero point \(z)") }
            var v = x
            // A range that starts at 0 clips negatives: quantizers drop a ReLU before it (ONNX Runtime removes
            // Relu and Clip a Q node makes redundant), so the float graph has to clip there too.
            let nonNegative = [.relu, .relu6, .sigmoid, .hardsigmoid].contains(builder.activation(of: x))
            if zeroPoint == 0 && !nonNegative {
                let onlyReader = consumers[node.inputs[0]]?.count == 1 && !graphOutputs.contains(node.inputs[0])
                if !(onlyReader && builder.fuseActivation(x, .relu)) { v = builder.activation(x, .relu) }
            }
            if activationQuantization[v] == nil {
                activationQuantization[v] = QuantParams(scale: scale.floats[0], zero: zeroPoint)
            }
            values[node.outputs[0]] = .feature(v, layout)
            return
        }
        values[node.outputs[0]] = .feature(x, layout)
    }
}
