#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif
import MLRCRuntime

/// Evaluates nodes whose inputs are all constants: shape arithmetic (Shape -> Gather -> Concat -> Reshape), casts,
/// and weights written as expressions (DequantizeLinear of int8 weights, Transpose of a MatMul weight). Inputs are
/// small apart from weights, and every result is bounded by the elements its inputs hold.
enum ONNXConstantFolding {
    static let foldable: Set<String> = [
        "Add", "Sub", "Mul", "Div", "Pow", "Min", "Max", "Equal", "Less", "Greater", "Where", "Sqrt", "Neg",
        "Reciprocal",
        "Floor", "Ceil", "Abs", "Cast", "Identity", "Gather", "Concat", "Unsqueeze", "Squeeze", "Reshape", "Flatten",
        "Slice", "Transpose", "ConstantOfShape", "Range", "Expand", "DequantizeLinear", "QuantizeLinear", "Shape",
        "Size", "ReduceProd", "Clip",
    ]

    static func strides(_ dims: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: dims.count)
        var acc = 1
        for i in stride(from: dims.count - 1, through: 0, by: -1) {
            s[i] = acc
            acc *= dims[i]
        }
        return s
    }

    static func count(_ dims: [Int]) throws -> Int {
        var n = 1
        for d in dims {
            guard d >= 0 else { throw MLRCError.format("negative dimension in \(dims)") }
            let (m, o) = n.multipliedReportingOverflow(by: d)
            guard !o, m <= 1 << 31 else { throw MLRCError.format("shape \(dims) is too large") }
            n = m
        }
        return n
    }

    /// numpy broadcasting of two shapes.
    static func broadcast(_ a: [Int], _ b: [Int]) throws -> [Int] {
        let r = max(a.count, b.count)
        let pa = [Int](repeating: 1, count: r - a.count) + a, pb = [Int](repeating: 1, count: r - b.count) + b
        return try zip(pa, pb).map { x, y in
            guard x == y || x == 1 || y == 1 else { throw MLRCError.format("shapes \(a) and \(b) do not broadcast") }
            return x == 1 ? y : x
        }
    }

    /// For each element of `out`, the index of the element of a tensor of `dims` that broadcasting reads.
    static func broadcastIndices(_ dims: [Int], to out: [Int]) throws -> [Int] {
        let padded = [Int](repeating: 1, count: out.count - dims.count) + dims
        let inStrides = strides(padded), outStrides = strides(out)
        let n = try count(out)
        var idx = [Int](repeating: 0, count: n)
        for i in 0..<n {
            var rem = i, src = 0
            for a in 0..<out.count {
                let q = rem / outStrides[a]
                rem -= q * outStrides[a]
                if padded[a] != 1 { src += q * inStrides[a] }
            }
            idx[i] = src
        }
        return idx
    }

    /// Reshape's target: 0 copies the input's dimension (unless allowzero), one -1 takes what is left.
    static func reshape(_ input: [Int], to target: [Int64], allowZero: Bool = false) throws -> [Int] {
        let total = try count(input)
        var out: [Int] = []
        var infer: Int?
        for (i, t) in target.enumerated() {
            if t == -1 {
                guard infer == nil else { throw MLRCError.format("Reshape to \(target) has two -1") }
                infer = i
                out.append(1)
            } else if t == 0 && !allowZero {
                guard i < input.count else { throw MLRCError.format("Reshape to \(target) copies a missing dimension") }
                out.append(input[i])
            } else {
                guard t >= 0, t <= Int64(Int32.max) else { throw MLRCError.format("Reshape to \(target)") }
                out.append(Int(t))
            }
        }
        let known = try count(out)
        if let i = infer {
            guard known > 0, total % known == 0 else {
                throw MLRCError.format("Reshape of \(input) to \(target): the sizes do not divide")
            }
            out[i] = total / known
        }
        guard try count(out) == total else { throw MLRCError.format("Reshape of \(input) to \(target)") }
        return out
    }

    static func axis(_ a: Int64, rank: Int) throws -> Int {
        let r = Int64(rank)
        guard r >= 1, a >= -r, a < r else { throw MLRCError.format("axis \(a) for rank \(rank)") }
        return Int(a < 0 ? a + r : a)
    }

    /// The node's value; `inputs` are its constant inputs (nil where the input is absent).
    static func fold(
        _ node: ONNXNode, _ inputs: [ONNXConstant?], opset: Int64, model: ONNXModel
    ) throws
        -> [ONNXConstant]
    {
        func input(_ i: Int) throws -> ONNXConstant {
            guard i < inputs.count, let c = inputs[i] else {
                throw MLRCError.format("ONNX node '\(node.label)' (\(node.opType)) lacks input \(i)")
            }
            return c
        }
        switch node.opType {
        case "Identity":
            return [try input(0)]
        case "Add", "Sub", "Mul", "Div", "Pow", "Min", "Max", "Equal", "Less", "Greater":
            return [try binary(node.opType, try input(0), try input(1))]
        case "Where":
            let (c, a, b) = (try input(0), try input(1), try input(2))
            let out = try broadcast(try broadcast(c.dims, a.dims), b.dims)
            guard try count(out) <= max(c.count, a.count, b.count, 1 << 20) else {
                throw MLRCError.format("Where of constants grows to \(out)")
            }
            let (ic, ia, ib) = (
                try broadcastIndices(c.dims, to: out), try broadcastIndices(a.dims, to: out),
                try broadcastIndices(b.dims, to: out)
            )
            let ints = a.ints != nil && b.ints != nil
            var f = [Float](), v = [Int64]()
            for i in 0..<ic.count {
                let pick = c.floats[ic[i]] != 0
                f.append(pick ? a.floats[ia[i]] : b.floats[ib[i]])
                if ints { v.append(pick ? a.ints![ia[i]] : b.ints![ib[i]]) }
            }
            return [ONNXConstant(dims: out, floats: f, ints: ints ? v : nil)]
        case "Clip":
            // TensorFlow-style "same" padding computed in the graph: max(total, 0)
            let x = try input(0)
            let lo = inputs.count > 1 ? inputs[1]?.floats.first : node.float("min")
            let hi = inputs.count > 2 ? inputs[2]?.floats.first : node.float("max")
            let f = x.floats.map { min(max($0, lo ?? -.infinity), hi ?? .infinity) }
            let ints = x.ints.map { v in
                v.map { i -> Int64 in
                    var r = i
                    if let l = inputs.count > 1 ? inputs[1]?.ints?.first : nil { r = max(r, l) }
                    if let h = inputs.count > 2 ? inputs[2]?.ints?.first : nil { r = min(r, h) }
                    return r
                }
            }
            return [ONNXConstant(dims: x.dims, floats: f, ints: ints)]
        case "Sqrt", "Neg", "Reciprocal", "Floor", "Ceil", "Abs":
            let x = try input(0)
            let f: (Float) -> Float
            switch node.opType {
            case "Sqrt": f = { $0.squareRoot() }
            case "Neg": f = { -$0 }
            case "Reciprocal": f = { 1 / $0 }
            case "Floor": f = { $0.rounded(.down) }
            case "Ceil": f = { $0.rounded(.up) }
            default: f = { abs($0) }
            }
            var r = ONNXConstant(dims: x.dims, floats: x.floats.map(f))
            if node.opType == "Neg" || node.opType == "Abs", let i = x.ints {
                r.ints = i.map { node.opType == "Neg" ? 0 &- $0 : ($0 < 0 ? 0 &- $0 : $0) }
            }
            return [r]
        case "Cast":
            let x = try input(0)
            let to = ONNXDataType(rawValue: Int32(truncatingIfNeeded: node.int("to") ?? 1)) ?? .float
            if to.isInteger {
                return [ONNXConstant(dims: x.dims, floats: x.integers.map { Float($0) }, ints: x.integers)]
            }
            return [ONNXConstant(dims: x.dims, floats: x.floats)]
        case "Shape":
            let x = try input(0)
            return [ONNXConstant(ints: try shapeSlice(x.dims.map { Int64($0) }, node))]
        case "Size":
            return [ONNXConstant(ints: [Int64(try input(0).count)], dims: [])]
        case "ReduceProd":
            let x = try input(0)
            guard x.dims.count <= 1, node.ints("axes") == nil, inputs.count < 2 else {
                throw MLRCError.format("ONNX node '\(node.label)': ReduceProd over axes of constants")
            }
            let p = x.integers.reduce(1, &*)
            return [ONNXConstant(ints: [p], dims: (node.int("keepdims") ?? 1) != 0 ? [1] : [])]
        case "Gather":
            return [try gather(try input(0), try input(1), axis: node.int("axis") ?? 0)]
        case "Concat":
            let parts = try (0..<inputs.count).map { try input($0) }
            return [try concat(parts, axis: node.int("axis") ?? 0)]
        case "Unsqueeze", "Squeeze":
            let x = try input(0)
            let axes = (opset >= 13 ? (inputs.count > 1 ? inputs[1]?.integers : nil) : node.ints("axes"))
            return [
                ONNXConstant(
                    dims: try squeezeDims(x.dims, axes: axes, unsqueeze: node.opType == "Unsqueeze"),
                    floats: x.floats, ints: x.ints)
            ]
        case "Reshape":
            let x = try input(0)
            let dims = try reshape(x.dims, to: try input(1).integers, allowZero: (node.int("allowzero") ?? 0) != 0)
            return [ONNXConstant(dims: dims, floats: x.floats, ints: x.ints)]
        case "Flatten":
            let x = try input(0)
            let a = try axis(node.int("axis") ?? 1, rank: x.dims.count + 1)
            let outer = try count(Array(x.dims[..<min(a, x.dims.count)]))
            return [ONNXConstant(dims: [outer, x.count / max(outer, 1)], floats: x.floats, ints: x.ints)]
        case "Transpose":
            let x = try input(0)
            let perm = node.ints("perm") ?? (0..<Int64(x.dims.count)).reversed().map { $0 }
            return [try transpose(x, perm: perm.map { Int($0) })]
        case "Slice":
            return [try slice(node, inputs, opset: opset)]
        case "ConstantOfShape":
            let dims = try input(0).integers.map { Int($0) }
            let n = try count(dims)
            guard n <= 1 << 24 else { throw MLRCError.format("ConstantOfShape of \(dims)") }
            let v = node.attributes["value"]?.t
            var fill: Float = 0
            var fillInt: Int64 = 0
            var integer = v == nil
            if let v {
                var decoder = ONNXTensorDecoder(directory: "", budget: 64)
                let c = try decoder.decode(v, in: model)
                fill = c.floats.first ?? 0
                fillInt = c.ints?.first ?? (fill.isFinite ? Int64(exactly: fill.rounded(.towardZero)) ?? 0 : 0)
                integer = c.ints != nil
            }
            return [
                ONNXConstant(
                    dims: dims, floats: [Float](repeating: fill, count: n),
                    ints: integer && n <= ONNXConstant.exactLimit ? [Int64](repeating: fillInt, count: n) : nil)
            ]
        case "Range":
            let (s, l, d) = (try input(0), try input(1), try input(2))
            guard let start = s.floats.first, let limit = l.floats.first, let delta = d.floats.first, delta != 0 else {
                throw MLRCError.format("ONNX node '\(node.label)': Range with a zero step")
            }
            let steps = ((limit - start) / delta).rounded(.up)
            guard steps.isFinite, steps <= Float(1 << 20) else { throw MLRCError.format("Range of \(steps) values") }
            let n = max(Int(steps), 0)
            if let a = s.ints?.first, let dd = d.ints?.first {
                return [ONNXConstant(ints: (0..<n).map { a + Int64($0) * dd })]
            }
            return [ONNXConstant(dims: [n], floats: (0..<n).map { start + Float($0) * delta })]
        case "Expand":
            let x = try input(0)
            let out = try broadcast(x.dims, try input(1).integers.map { Int($0) })
            guard try count(out) <= 1 << 24 else { throw MLRCError.format("Expand to \(out)") }
            let idx = try broadcastIndices(x.dims, to: out)
            return [
                ONNXConstant(dims: out, floats: idx.map { x.floats[$0] }, ints: x.ints.map { v in idx.map { v[$0] } })
            ]
        case "DequantizeLinear", "QuantizeLinear":
            return [try linearQuantization(node, try input(0), try input(1), inputs.count > 2 ? inputs[2] : nil)]
        default:
            throw MLRCError.format("ONNX op \(node.opType) is not evaluated on constants")
        }
    }

    /// Shape's optional start/end (opset 15).
    static func shapeSlice(_ dims: [Int64], _ node: ONNXNode) throws -> [Int64] {
        let r = dims.count
        func clamp(_ v: Int64) -> Int { let x = v < 0 ? Int(v) + r : Int(min(v, Int64(r))); return min(max(x, 0), r) }
        let s = clamp(node.int("start") ?? 0), e = clamp(node.int("end") ?? Int64(r))
        return s < e ? Array(dims[s..<e]) : []
    }

    static func binary(_ op: String, _ a: ONNXConstant, _ b: ONNXConstant) throws -> ONNXConstant {
        let out = try broadcast(a.dims, b.dims)
        let n = try count(out)
        guard n <= max(a.count, b.count) || n <= 1 << 20 else {
            throw MLRCError.format("\(op) of constants grows to \(out)")
        }
        let ia = try broadcastIndices(a.dims, to: out), ib = try broadcastIndices(b.dims, to: out)
        if let x = a.ints, let y = b.ints, op != "Pow" {
            var v = [Int64](repeating: 0, count: n)
            for i in 0..<n {
                let (p, q) = (x[ia[i]], y[ib[i]])
                switch op {
                case "Add": v[i] = p &+ q
                case "Sub": v[i] = p &- q
                case "Mul": v[i] = p &* q
                case "Div": v[i] = q == 0 ? 0 : (p == Int64.min && q == -1 ? p : p / q)
                case "Min": v[i] = min(p, q)
                case "Max": v[i] = max(p, q)
                case "Equal": v[i] = p == q ? 1 : 0
                case "Less": v[i] = p < q ? 1 : 0
                default: v[i] = p > q ? 1 : 0
                }
            }
            return ONNXConstant(ints: v, dims: out)
        }
        var f = [Float](repeating: 0, count: n)
        for i in 0..<n {
            let (p, q) = (a.floats[ia[i]], b.floats[ib[i]])
            switch op {
            case "Add": f[i] = p + q
            case "Sub": f[i] = p - q
            case "Mul": f[i] = p * q
            case "Div": f[i] = p / q
            case "Pow": f[i] = Float(pow(Double(p), Double(q)))
            case "Min": f[i] = min(p, q)
            case "Max": f[i] = max(p, q)
            case "Equal": f[i] = p == q ? 1 : 0
            case "Less": f[i] = p < q ? 1 : 0
            default: f[i] = p > q ? 1 : 0
            }
        }
        let boolean = op == "Equal" || op == "Less" || op == "Greater"
        return ONNXConstant(
            dims: out, floats: f, ints: boolean && n <= ONNXConstant.exactLimit ? f.map { Int64($0) } : nil)
    }

    static func gather(_ x: ONNXConstant, _ indices: ONNXConstant, axis a: Int64) throws -> ONNXConstant {
        guard !x.dims.isEmpty else { throw MLRCError.format("Gather from a scalar") }
        let ax = try axis(a, rank: x.dims.count)
        let n = x.dims[ax]
        let idx = try indices.integers.map { i -> Int in
            let j = i < 0 ? i + Int64(n) : i
            guard j >= 0, j < Int64(n) else { throw MLRCError.format("Gather index \(i) of \(n)") }
            return Int(j)
        }
        let outer = try count(Array(x.dims[..<ax])), inner = try count(Array(x.dims[(ax + 1)...]))
        let (total, o1) = outer.multipliedReportingOverflow(by: idx.count)
        let (total2, o2) = total.multipliedReportingOverflow(by: inner)
        guard !o1, !o2, total2 <= max(x.count, 1 << 20) else {
            throw MLRCError.format("Gather grows to \(total2) values")
        }
        var f: [Float] = [], v: [Int64] = []
        for o in 0..<outer {
            for i in idx {
                for k in 0..<inner {
                    let src = (o * n + i) * inner + k
                    f.append(x.floats[src])
                    if let xi = x.ints { v.append(xi[src]) }
                }
            }
        }
        let dims = Array(x.dims[..<ax]) + indices.dims + Array(x.dims[(ax + 1)...])
        return ONNXConstant(dims: dims, floats: f, ints: x.ints == nil ? nil : v)
    }

    static func concat(_ parts: [ONNXConstant], axis a: Int64) throws -> ONNXConstant {
        guard let first = parts.first else { throw MLRCError.format("Concat of nothing") }
        let rank = max(first.dims.count, 1)
        let ax = try axis(a, rank: rank)
        let dimsOf = { (c: ONNXConstant) in c.dims.isEmpty ? [1] : c.dims }
        for p in parts {
            let d = dimsOf(p), f = dimsOf(first)
            guard d.count == f.count, (0..<d.count).allSatisfy({ $0 == ax || d[$0] == f[$0] }) else {
                throw MLRCError.format("Concat of constants of shapes \(parts.map(\.dims))")
            }
        }
        let outer = try count(Array(dimsOf(first)[..<ax]))
        let ints = parts.allSatisfy { $0.ints != nil }
        var f: [Float] = [], v: [Int64] = []
        for o in 0..<outer {
            for p in parts {
                let d = dimsOf(p)
                let chunk = try count(Array(d[ax...]))
                f.append(contentsOf: p.floats[(o * chunk)..<((o + 1) * chunk)])
                if ints { v.append(contentsOf: p.ints![(o * chunk)..<((o + 1) * chunk)]) }
            }
        }
        var dims = dimsOf(first)
        dims[ax] = parts.map { dimsOf($0)[ax] }.reduce(0, +)
        return ONNXConstant(dims: dims, floats: f, ints: ints ? v : nil)
    }

    static func squeezeDims(_ dims: [Int], axes: [Int64]?, unsqueeze: Bool) throws -> [Int] {
        if unsqueeze {
            guard let axes else { throw MLRCError.format("Unsqueeze without axes") }
            let rank = dims.count + axes.count
            let set = Set(try axes.map { try axis($0, rank: rank) })
            var out: [Int] = [], it = dims.makeIterator()
            for i in 0..<rank { out.append(set.contains(i) ? 1 : (it.next() ?? 1)) }
            return out
        }
        guard let axes else { return dims.filter { $0 != 1 } }
        let set = Set(try axes.map { try axis($0, rank: dims.count) })
        for a in set where dims[a] != 1 { throw MLRCError.format("Squeeze of axis \(a) of \(dims)") }
        return dims.enumerated().filter { !set.contains($0.offset) }.map(\.element)
    }

    static func transpose(_ x: ONNXConstant, perm: [Int]) throws -> ONNXConstant {
        guard perm.count == x.dims.count, Set(perm) == Set(0..<perm.count) else {
            throw MLRCError.format("Transpose perm \(perm) of a rank-\(x.dims.count) tensor")
        }
        let out = perm.map { x.dims[$0] }
        let inStrides = strides(x.dims), outStrides = strides(out)
        var f = [Float](repeating: 0, count: x.count)
        var v = x.ints.map { [Int64](repeating: 0, count: $0.count) }
        for i in 0..<x.count {
            var rem = i, src = 0
            for a in 0..<out.count {
                let q = rem / outStrides[a]
                rem -= q * outStrides[a]
                src += q * inStrides[perm[a]]
            }
            f[i] = x.floats[src]
            if v != nil { v![i] = x.ints![src] }
        }
        return ONNXConstant(dims: out, floats: f, ints: v)
    }

    /// Normalised Slice bounds along each axis of `dims`: (start, end, step) with step != 0.
    static func sliceBounds(
        _ node: ONNXNode, _ inputs: [ONNXConstant?], dims: [Int], opset: Int64
    ) throws
        -> [(start: Int, end: Int, step: Int)]
    {
        let starts: [Int64], ends: [Int64], axes: [Int64]?, steps: [Int64]?
        if opset >= 10 {
            guard inputs.count >= 3, let s = inputs[1], let e = inputs[2] else {
                throw MLRCError.format("ONNX node '\(node.label)': Slice needs constant starts and ends")
            }
            (starts, ends) = (s.integers, e.integers)
            axes = inputs.count > 3 ? inputs[3]?.integers : nil
            steps = inputs.count > 4 ? inputs[4]?.integers : nil
        } else {
            starts = node.ints("starts") ?? []
            ends = node.ints("ends") ?? []
            axes = node.ints("axes")
            steps = nil
        }
        let ax = try (axes ?? (0..<Int64(starts.count)).map { $0 }).map { try axis($0, rank: dims.count) }
        guard ends.count == starts.count, ax.count == starts.count, steps == nil || steps!.count == starts.count
        else { throw MLRCError.format("ONNX node '\(node.label)': Slice bounds of different lengths") }
        var out = dims.map { (start: 0, end: $0, step: 1) }
        for (k, a) in ax.enumerated() {
            let n = Int64(dims[a])
            let step = steps?[k] ?? 1
            guard step != 0 else { throw MLRCError.format("ONNX node '\(node.label)': Slice step 0") }
            func clampIndex(_ v: Int64, _ lo: Int64, _ hi: Int64) -> Int64 {
                let x = v < 0 ? v &+ n : v
                return min(max(x, lo), hi)
            }
            let s = step > 0 ? clampIndex(starts[k], 0, n) : clampIndex(starts[k], 0, n - 1)
            let e = step > 0 ? clampIndex(ends[k], 0, n) : clampIndex(ends[k], -1, n - 1)
            guard abs(step) <= Int64(Int32.max) else { throw MLRCError.format("Slice step \(step)") }
            out[a] = (Int(s), Int(e), Int(step))
        }
        return out
    }

    static func slice(_ node: ONNXNode, _ inputs: [ONNXConstant?], opset: Int64) throws -> ONNXConstant {
        guard let x = inputs.first ?? nil else { throw MLRCError.format("Slice without data") }
        let b = try sliceBounds(node, inputs, dims: x.dims, opset: opset)
        let ranges = b.map { r -> [Int] in
            r.step > 0
                ? Array(stride(from: r.start, to: r.end, by: r.step))
                : Array(stride(from: r.start, to: r.end, by: r.step))
        }
        let out = ranges.map(\.count)
        let n = try count(out)
        let st = strides(x.dims)
        var f: [Float] = [], v: [Int64] = []
        f.reserveCapacity(n)
        var index = [Int](repeating: 0, count: out.count)
        for _ in 0..<n {
            var src = 0
            for a in 0..<out.count { src += ranges[a][index[a]] * st[a] }
            f.append(x.floats[src])
            if let xi = x.ints { v.append(xi[src]) }
            var a = out.count - 1
            while a >= 0 {
                index[a] += 1
                if index[a] < out[a] { break }
                index[a] = 0
                a -= 1
            }
        }
        return ONNXConstant(dims: out, floats: f, ints: x.ints == nil ? nil : v)
    }

    /// (De)QuantizeLinear of a constant: per tensor, or per slice of `axis` (per output channel for weights).
    static func linearQuantization(
        _ node: ONNXNode, _ x: ONNXConstant, _ scale: ONNXConstant, _ zero: ONNXConstant?
    )
        throws -> ONNXConstant
    {
        let zeros = zero?.floats ?? [Float](repeating: 0, count: scale.count)
        guard scale.count >= 1, zeros.count == scale.count else {
            throw MLRCError.format("ONNX node '\(node.label)': \(scale.count) scales and \(zeros.count) zero points")
        }
        var perElement: (Int) -> Int = { _ in 0 }
        if scale.count > 1 {
            let ax = try axis(node.int("axis") ?? 1, rank: x.dims.count)
            guard x.dims[ax] == scale.count else {
                throw MLRCError.format(
                    "ONNX node '\(node.label)': \(scale.count) scales along an axis of \(x.dims[ax])")
            }
            let inner = try count(Array(x.dims[(ax + 1)...]))
            guard inner > 0 else { return ONNXConstant(dims: x.dims, floats: []) }
            perElement = { ($0 / inner) % scale.count }
        }
        var f = [Float](repeating: 0, count: x.count)
        if node.opType == "DequantizeLinear" {
            for i in 0..<x.count { let c = perElement(i); f[i] = (x.floats[i] - zeros[c]) * scale.floats[c] }
        } else {
            // the zero point's type sets the range (int8 when there is none)
            let unsigned = zero?.elementType == .uint8
            let (lo, hi): (Float, Float) = unsigned ? (0, 255) : (-128, 127)
            for i in 0..<x.count {
                let c = perElement(i)
                f[i] = min(max((x.floats[i] / scale.floats[c]).rounded(.toNearestOrEven) + zeros[c], lo), hi)
            }
        }
        return ONNXConstant(dims: x.dims, floats: f)
    }
}
