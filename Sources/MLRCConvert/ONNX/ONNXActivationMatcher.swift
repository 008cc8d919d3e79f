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
            guard let coarse = evaluate(order, x: x, on: Self.coarseGrid), Self.classify(coarse, on: Self.coarseGrid) != nil,
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
    private func evaluate(_ order: [Int], x: String, on grid: [Double]) -> [Double]? {
        var out = [Double](repeating: 0, count: grid.count)
        for (k, t) in grid.enumerated() {
            var v: [String: Double] = [x: t]
            func value(_ name: String) -> Double? { v[name] ?? scalar(name) }
            for n in order {
                let node = nodes[n]
                guard let a = value(node.inputs[0]) else { return nil }
                let b = node.inputs.count > 1 ? value(node.inputs[1]) : nil
                var r: Double
                switch node.opType {
                case "Add": guard let b else { return nil }; r = a + b
                case "Sub": guard let b else { return nil }; r = a - b
                case "Mul": guard let b else { return nil }; r = a * b
                case "Div": guard let b else { return nil }; r = a / b
                case "Pow": guard let b else { return nil }; r = pow(a, b)
                case "Min": guard let b else { return nil }; r = min(a, b)
                case "Max": guard let b else { return nil }; r = max(a, b)
                case "Erf": r = erf(a)
                case "Tanh": r = tanh(a)
                case "Sigmoid": r = 1 / (1 + exp(-a))
                case "Softplus": r = log1p(exp(a))
                case "Relu": r = max(a, 0)
                case "Neg": r = -a
                case "Sqrt": r = a.squareRoot()
                // quantization inside an activation (QDQ models): the activation is what mlrc computes
                case "Identity", "QuantizeLinear", "DequantizeLinear": r = a
                case "Clip":
                    let lo = node.input(1).flatMap(value) ?? node.float("min").map(Double.init) ?? -.infinity
                    let hi = node.input(2).flatMap(value) ?? node.float("max").map(Double.init) ?? .infinity
                    r = min(max(a, lo), hi)
                case "HardSigmoid":
                    let alpha = Double(node.float("alpha") ?? 0.2), beta = Double(node.float("beta") ?? 0.5)
                    r = min(max(alpha * a + beta, 0), 1)
                case "HardSwish": r = a * min(max(a / 6 + 0.5, 0), 1)
                case "Gelu":
                    if node.string("approximate") == "tanh" {
                        let inner: Double = 0.7978845608028654 * (a + 0.044715 * a * a * a)
                        r = 0.5 * a * (1 + tanh(inner))
                    } else {
                        r = 0.5 * a * (1 + erf(a / 2.0.squareRoot()))
                    }
                default: return nil
                }
                v[node.outputs[0]] = r
            }
            guard let y = v[nodes[order.last!].outputs[0]], y.isFinite || y.isNaN == false else { return nil }
            out[k] = y
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
