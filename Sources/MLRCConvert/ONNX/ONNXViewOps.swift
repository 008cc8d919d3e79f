import MLRCRuntime

/// Concatenation, splitting and the reshapes and transposes that only change how ONNX sees a value.
extension ONNXGraphImporter {
    func concat(_ i: Int) throws {
        let node = nodes[i]
        let parts = try node.inputs.filter { !$0.isEmpty }.map { try feature($0, node) }
        guard let layout = parts.first?.1, parts.allSatisfy({ $0.1 == layout }) else {
            throw error(node, "Concat of views in different layouts")
        }
        let axis = try ONNXConstantFolding.axis(node.int("axis") ?? 1, rank: layout.rank)
        guard axis == layout.channelAxis else { throw error(node, "Concat along axis \(axis) (mlrc joins channels)") }
        values[node.outputs[0]] = .feature(parts.count == 1 ? parts[0].0 : try builder.concat(parts.map(\.0)), layout)
    }

    func split(_ i: Int) throws {
        let node = nodes[i]
        let (x, layout) = try feature(node.inputs[0], node)
        let axis = try ONNXConstantFolding.axis(node.int("axis") ?? 0, rank: layout.rank)
        guard axis == layout.channelAxis else { throw error(node, "Split along axis \(axis) (mlrc splits channels)") }
        let c = builder.shape(x).channels
        var sizes: [Int]
        if let s = opset >= 13 ? (try constant(node.input(1)))?.integers : node.ints("split") {
            sizes = s.map { Int(clamping: $0) }
        } else {
            let n = node.outputs.count
            guard n >= 1 else { throw error(node, "Split into nothing") }
            let part = (c + n - 1) / n
            sizes = (0..<n).map { min(part, max(c - $0 * part, 0)) }
        }
        guard sizes.count == node.outputs.count, sizes.allSatisfy({ $0 >= 1 && $0 <= c }), sizes.reduce(0, +) == c
        else {
            throw error(node, "Split of \(c) channels into \(sizes)")
        }
        var offset = 0
        for (name, n) in zip(node.outputs, sizes) {
            values[name] = .feature(try builder.slice(x, offset: offset, count: n), layout)
            offset += n
        }
    }

    func slice(_ i: Int) throws {
        let node = nodes[i]
        let (x, layout) = try feature(node.inputs[0], node)
        let dims = layout.dims(builder.shape(x))
        let cs = try node.inputs.map { try constant($0) }
        let bounds = try ONNXConstantFolding.sliceBounds(node, cs, dims: dims, opset: opset)
        for (a, b) in bounds.enumerated() where a != layout.channelAxis {
            guard b.start == 0, b.end == dims[a], b.step == 1 else {
                throw error(node, "Slice of axis \(a) (mlrc slices channels only)")
            }
        }
        let b = bounds[layout.channelAxis]
        guard b.step == 1, b.end > b.start else { throw error(node, "Slice of channels \(b) (step 1 only)") }
        values[node.outputs[0]] = .feature(try builder.slice(x, offset: b.start, count: b.end - b.start), layout)
    }

    func transpose(_ i: Int) throws {
        let node = nodes[i]
        let v = try value(node.inputs[0], node)
        let perm = node.ints("perm")
        switch v {
        case .feature(let x, let layout):
            let p = perm ?? (0..<Int64(layout.rank)).reversed().map { $0 }
            if p == (0..<Int64(layout.rank)).map({ $0 }) {
                values[node.outputs[0]] = v
            } else if layout == .nchw && p == [0, 2, 3, 1] {
                values[node.outputs[0]] = .feature(x, .nhwc)
            } else if layout == .nhwc && p == [0, 3, 1, 2] {
                values[node.outputs[0]] = .feature(x, .nchw)
            } else {
                throw error(node, "Transpose \(p) of a \(layout) map (mlrc reads NCHW <-> NHWC and channel shuffles)")
            }
        case .grouped(let x, let g, false) where perm == [0, 2, 1, 3, 4]:
            values[node.outputs[0]] = .grouped(x, groups: g, transposed: true)
        default:
            throw error(node, "Transpose \(perm ?? []) of this value")
        }
    }

    /// Reshape, Flatten, Squeeze and Unsqueeze of a feature map: views, except the one that ends a channel shuffle.
    func reshape(_ i: Int) throws {
        let node = nodes[i]
        let v = try value(node.inputs[0], node)
        switch v {
        case .feature, .flattened, .grouped: break
        default: throw error(node, "\(node.opType) of this value")
        }
        let inDims = onnxDims(v)
        let outDims: [Int]
        switch node.opType {
        case "Reshape":
            guard let target = try constant(node.input(1)) else {
                throw error(
                    node,
                    "Reshape to a shape that is not constant (mlrc evaluates shape subgraphs; this one "
                        + "depends on something else)")
            }
            outDims = try ONNXConstantFolding.reshape(
                inDims, to: target.integers,
                allowZero: (node.int("allowzero") ?? 0) != 0)
        case "Flatten":
            let a = try ONNXConstantFolding.axis(node.int("axis") ?? 1, rank: inDims.count + 1)
            let outer = inDims[..<a].reduce(1, *)
            outDims = [outer, inDims[a...].reduce(1, *)]
        default:
            let axes = opset >= 13 ? (try constant(node.input(1)))?.integers : node.ints("axes")
            outDims = try ONNXConstantFolding.squeezeDims(inDims, axes: axes, unsqueeze: node.opType == "Unsqueeze")
        }
        let out = node.outputs[0]
        switch v {
        case .feature(let x, let layout):
            let s = builder.shape(x)
            if outDims == inDims {
                values[out] = v
            } else if s.pixels == 1 {
                guard let l = ONNXLayout.ofPixel(dims: outDims, channels: s.channels) else {
                    throw error(node, "\(node.opType) of a \(s.channels)-vector to \(outDims)")
                }
                values[out] = .feature(x, l)
            } else if layout == .nchw && outDims == [1, s.count] {
                values[out] = .flattened(x)
            } else if layout == .nchw && outDims.count == 5 && outDims[0] == 1 && outDims[3] == s.height
                && outDims[4] == s.width && outDims[1] * outDims[2] == s.channels
            {
                values[out] = .grouped(x, groups: outDims[1], transposed: false)
            } else {
                throw error(node, "\(node.opType) of a \(layout) map \(inDims) to \(outDims)")
            }
        case .grouped(let x, let g, true):
            let s = builder.shape(x)
            guard outDims == [1, s.channels, s.height, s.width] else {
                throw error(node, "\(node.opType) of a shuffled view to \(outDims)")
            }
            values[out] = .feature(try builder.channelShuffle(x, groups: g), .nchw)
        case .grouped, .flattened:
            guard outDims == inDims else {
                throw error(node, "\(node.opType) of a 5-D or flattened view to \(outDims)")
            }
            values[out] = v
        default:
            throw error(node, "\(node.opType) of this value")
        }
    }
}

extension ONNXGraphImporter {
    /// Gather along the channels of a one-pixel map with the indices 0, 1, ..., C - 1 (how the dynamo exporter
    /// writes as_strided views of pooled features): a view.
    func gatherChannels(_ i: Int) throws {
        let node = nodes[i]
        let (x, layout) = try feature(node.inputs[0], node)
        let s = builder.shape(x)
        let axis = try ONNXConstantFolding.axis(node.int("axis") ?? 0, rank: layout.rank)
        guard s.pixels == 1, axis == layout.channelAxis, let idx = try constant(node.input(1)),
            idx.integers == (0..<Int64(s.channels)).map({ $0 }),
            let l = ONNXLayout.ofPixel(dims: idx.dims, channels: s.channels)
        else { throw error(node, "Gather from a feature map (mlrc reads only an identity gather of channels)") }
        values[node.outputs[0]] = .feature(x, l)
    }
}
