#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif
import MLRCRuntime

/// Finds activations however an exporter spelled them. Swish is Mul(x, Sigmoid(x)), GELU is Div, Erf, Add, Mul, Mul
/// or a tanh polynomial, hardswish is x * HardSigmoid(x) or x * Clip(x + 3, 0, 6) / 6, and the spelling changes with
/// the exporter and opset. Rather than list every pattern, take the elementwise nodes that read only x, scalar
/// constants and each other, evaluate them on a grid of inputs and compare the function with mlrc's activations.
struct ONNXActivationMatcher {
    static let elementwise: Set<String> = [
        "Add", "Sub", "Mul", "Div", "Pow", "Erf", "Tanh", "Sigmoid", "Relu", "Clip", "HardSigmoid", "HardSwish", "Neg",
        "Sqrt", "Gelu", "Min", "Max", "Identity", "Softplus", "QuantizeLinear", "DequantizeLinear",
    ]

    /// Q and DQ nodes inside an activation (never at its end: a QDQ pair after an op carries its output's scale).
    static let quantization: Set<String> = ["QuantizeLinear", "DequantizeLinear"]

    struct Match {
        var activation: Activation
        /// The value that holds the activation's result.
        var exit: String
        /// The nodes it replaces.
        var nodes: [Int]
        /// The largest difference from mlrc's activation on the grid (non-zero for tanh-approximated GELU).
        var error: Double
    }

    let nodes: [ONNXNode]
    let consumers: [String: [Int]]
    let graphOutputs: Set<String>
    /// A scalar constant's value, or nil.
    let scalar: (String) -> Double?

    /// The largest region matching one activation, starting at x. With `exclusive`, x must be read only by the
    /// region (so the activation can be fused into the op that produced x).
    func match(from x: String, exclusive: Bool, done: Set<Int>) -> Match? {
        var region: [Int] = []
        var inRegion = Set<Int>()
        var produced: Set<String> = [x]
        var grew = true
        while grew && region.count < 24 {
            grew = false
            for v in Array(produced) {
                for c in consumers[v] ?? [] where !inRegion.contains(c) && !done.contains(c) {
                    let n = nodes[c]
                    guard n.domain.isEmpty, Self.elementwise.contains(n.opType), n.outputs.count >= 1 else { continue }
                    let ok = n.inputs.allSatisfy { $0.isEmpty || produced.contains($0) || scalar($0) != nil }
                    guard ok, n.inputs.contains(where: { produced.contains($0) }) else { continue }
                    region.append(c)
                    inRegion.insert(c)
                    produced.insert(n.outputs[0])
                    grew = true
                }
            }
        }
        guard !region.isEmpty else { return nil }
        region.sort()
        // Try exits from the last node back: the first sub-region that is closed and matches wins.
        for exitNode in region.reversed() where !Self.quantization.contains(nodes[exitNode].opType) {
            var sub = Set<Int>()
            var stack = [exitNode]
            while let n = stack.popLast() {
                guard sub.insert(n).inserted else { continue }
                for i in nodes[n].inputs where i != x {
                    if let p = region.first(where: { nodes[$0].outputs.first == i }) { stack.append(p) }
                }
            }
            let exit = nodes[exitNode].outputs[0]
            let closed = sub.allSatisfy { n in
                n == exitNode
                    || (!graphOutputs.contains(nodes[n].outputs[0])
                        && (consumers[nodes[n].outputs[0]] ?? []).allSatisfy { sub.contains($0) })
            }
            guard closed else { continue }
            if exclusive {
                guard !graphOutputs.contains(x), (consumers[x] ?? []).allSatisfy({ sub.contains($0) }) else { continue }
            }
            let order = sub.sorted()
            // a coarse grid rules most candidates out before the fine one
            guard let coarse = evaluate(order, x: x, on: Self.coarseGrid),
                Self.classify(coarse, on: Self.coarseGrid) != nil,
                let f = evaluate(order, x: x, on: Self.grid)
            else { continue }
            if let (act, err) = Self.classify(f, on: Self.grid),
                act != .none || !order.contains(where: { Self.quantization.contains(nodes[$0].opType) })
            {
                return Match(activation: act, exit: exit, nodes: order, error: err)
            }
        }
        return nil
    }

    static let grid: [Double] = stride(from: -12.0, through: 12.0, by: 0.01).map { $0 }
    static let coarseGrid: [Double] = stride(from: -12.0, through: 12.0, by: 0.37).map { $0 }

    /// The region's function on the grid, or nil when a node cannot be evaluated.
    private enum ElementwiseOp: String {
        case add = "Add"
        case sub = "Sub"
        case mul = "Mul"
        case div = "Div"
        case pow = "Pow"
        case min = "Min"
        case max = "Max"
        case erf = "Erf"
        case tanh = "Tanh"
        case sigmoid = "Sigmoid"
        case softplus = "Softplus"
        case relu = "Relu"
        case neg = "Neg"
        case sqrt = "Sqrt"
        case identity = "Identity"
        case quantizeLinear = "QuantizeLinear"
        case dequantizeLinear = "DequantizeLinear"
        case clip = "Clip"
        case hardSigmoid = "HardSigmoid"
        case hardSwish = "HardSwish"
        case gelu = "Gelu"
    }

    /// Where a region node's operand comes from: x, an earlier node of the region, a scalar constant, or nowhere.
    private enum Operand {
        case x, node(Int), constant(Double), absent
    }

    /// The region's function on the grid, or nil when a node cannot be evaluated. Operands and attributes are
    /// resolved once, so each grid point is plain arithmetic.
    private func evaluate(_ order: [Int], x: String, on grid: [Double]) -> [Double]? {
        var position: [String: Int] = [:]
        for (k, n) in order.enumerated() { position[nodes[n].outputs[0]] = k }
        let operands: [[Operand]] = order.map { n in
            nodes[n].inputs.map { name -> Operand in
                if name.isEmpty { return .absent }
                if name == x { return .x }
                if let k = position[name] { return .node(k) }
                if let c = scalar(name) { return .constant(c) }
                return .absent
            }
        }
        // Clip bounds given as attributes (opset < 11), HardSigmoid's alpha and beta, Gelu's form
        let attributes: [(Double, Double, Bool)] = order.map { n in
            let node = nodes[n]
            switch node.opType {
            case "Clip":
                return (
                    node.float("min").map(Double.init) ?? -.infinity, node.float("max").map(Double.init) ?? .infinity,
                    false
                )
            case "HardSigmoid": return (Double(node.float("alpha") ?? 0.2), Double(node.float("beta") ?? 0.5), false)
            case "Gelu": return (0, 0, node.string("approximate") == "tanh")
            default: return (0, 0, false)
            }
        }
        let ops = order.map { ElementwiseOp(rawValue: nodes[$0].opType) }
        var v = [Double](repeating: 0, count: order.count)
        var out = [Double](repeating: 0, count: grid.count)
        for (g, t) in grid.enumerated() {
            func value(_ o: Operand) -> Double? {
                switch o {
                case .x: return t
                case .node(let k): return v[k]
                case .constant(let c): return c
                case .absent: return nil
                }
            }
            for k in 0..<order.count {
                let ins = operands[k]
                guard let a = ins.first.flatMap(value) else { return nil }
                let b = ins.count > 1 ? value(ins[1]) : nil
                var r: Double
                guard let op = ops[k] else { return nil }
                switch op {
                case .add: guard let b else { return nil }; r = a + b
                case .sub: guard let b else { return nil }; r = a - b
                case .mul: guard let b else { return nil }; r = a * b
                case .div: guard let b else { return nil }; r = a / b
                case .pow: guard let b else { return nil }; r = pow(a, b)
                case .min: guard let b else { return nil }; r = min(a, b)
                case .max: guard let b else { return nil }; r = max(a, b)
                case .erf: r = erf(a)
                case .tanh: r = tanh(a)
                case .sigmoid: r = 1 / (1 + exp(-a))
                case .softplus: r = log1p(exp(a))
                case .relu: r = max(a, 0)
                case .neg: r = -a
                case .sqrt: r = a.squareRoot()
                // quantization inside an activation (QDQ models): the activation is what mlrc computes
                case .identity, .quantizeLinear, .dequantizeLinear: r = a
                case .clip:
                    let lo = ins.count > 1 ? value(ins[1]) ?? attributes[k].0 : attributes[k].0
                    let hi = ins.count > 2 ? value(ins[2]) ?? attributes[k].1 : attributes[k].1
                    r = min(max(a, lo), hi)
                case .hardSigmoid: r = min(max(attributes[k].0 * a + attributes[k].1, 0), 1)
                case .hardSwish: r = a * min(max(a / 6 + 0.5, 0), 1)
                case .gelu:
                    if attributes[k].2 {
                        let inner: Double = 0.7978845608028654 * (a + 0.044715 * a * a * a)
                        r = 0.5 * a * (1 + tanh(inner))
                    } else {
                        r = 0.5 * a * (1 + erf(a / 2.0.squareRoot()))
                    }
                }
                v[k] = r
            }
            guard let y = v.last, !y.isNaN else { return nil }
            out[g] = y
        }
        return out
    }

    static func reference(_ a: Activation, _ x: Double) -> Double {
        let hs = min(max(x + 3, 0), 6) / 6
        switch a {
        case .none: return x
        case .relu: return max(x, 0)
        case .relu6: return min(max(x, 0), 6)
        case .gelu: return 0.5 * x * (1 + erf(x / 2.0.squareRoot()))
        case .sigmoid: return 1 / (1 + exp(-x))
        case .hardswish: return x * hs
        case .hardsigmoid: return hs
        case .silu: return x / (1 + exp(-x))
        }
    }

    /// The activation the function is, with its largest difference. GELU's tanh form is within 5e-4 of the erf form
    /// mlrc computes; everything else must agree to float rounding.
    static func classify(_ f: [Double], on grid: [Double]) -> (Activation, Double)? {
        for a in [Activation.relu, .relu6, .sigmoid, .hardswish, .hardsigmoid, .silu, .gelu, .none] {
            var worst = 0.0
            for (k, x) in grid.enumerated() {
                let d = abs(f[k] - reference(a, x))
                guard d.isFinite else { worst = .infinity; break }
                worst = max(worst, d / max(1, abs(reference(a, x))))
            }
            if worst <= 1e-5 || (a == .gelu && worst <= 1e-3) { return (a, worst) }
        }
        return nil
    }
}
