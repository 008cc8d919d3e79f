import CMLRCKernels
import MLRCRuntime

/// Reorders the channels between two general convolutions, the second reading the first's output directly or
/// through one depthwise convolution (an inverted residual's expansion -> depthwise -> projection, a basic block's
/// two convolutions), so that the second's weights pair input channels whose codes rarely cross the pair bound
/// together (mlrc_q8_weight_pair_peak: two same-signed codes of one output channel adding up past 128). The first
/// layer's output channels, the depthwise channels and the second layer's input rows move together, so the
/// network computes the same function; pair-bounded weights then cost the second layer less.
enum ChannelPairing {
    /// Reorders every such chain of `net` in place, where the new order lowers the cost; returns how many.
    @discardableResult
    static func apply(to net: BuiltNetwork) -> Int {
        let b = net.builder
        let nodes = b.nodes
        var consumers = [[Int]](repeating: [], count: nodes.count + 1)
        for (i, n) in nodes.enumerated() { for v in Set(n.inputs) where v < consumers.count { consumers[v].append(i) } }
        var uses: [Int: Int] = [:]
        for n in nodes { for t in n.weights where t != Node.absent { uses[t, default: 0] += 1 } }
        /// Output channels of an ungrouped general convolution that int8 may take (its tensors its own).
        func plainConv(_ i: Int) -> Int? {
            guard nodes[i].op == .conv, !b.floatOnly.contains(i),
                nodes[i].weights.allSatisfy({ uses[$0, default: 0] <= 1 }),
                case let .conv(_, groups, outC, _)? = try? nodes[i].params(), groups == 1
            else { return nil }
            return Int(outC)
        }
        /// The only reader of value v, when it has exactly one and v is not the output.
        func soleReader(_ v: Int) -> Int? { v != net.output && consumers[v].count == 1 ? consumers[v][0] : nil }
        var reordered = 0
        for x in nodes.indices {
            guard let c = plainConv(x), c >= 4, var y = soleReader(x + 1) else { continue }
            var depthwise: Int? = nil
            if nodes[y].op == .depthwiseConv {
                guard nodes[y].weights.allSatisfy({ uses[$0, default: 0] <= 1 }), let next = soleReader(y + 1) else {
                    continue
                }
                depthwise = y
                y = next
            }
            guard let n = plainConv(y), nodes[y].inputs == [depthwise.map { $0 + 1 } ?? x + 1] else { continue }
            let wy = b.tensors[nodes[y].weights[0]]
            guard wy.count % (c * n) == 0, wy.count > 0 else { continue }
            let taps = wy.count / (c * n)
            var perm = [Int32](repeating: 0, count: c)
            var identity = 0.0
            let cost = mlrc_pair_channels(
                wy.data, Int32(taps), Int32(c), Int32(n), Int32(MLRC_Q8_MADDUBS_PAIR_LIMIT), &perm, &identity)
            let order = perm.map(Int.init)
            guard cost < identity, Set(order).count == c, order.allSatisfy({ (0..<c).contains($0) }) else { continue }
            // [k][c] tensors (the first's weights [k][co], the depthwise's [taps][C]) and [c] biases: columns move
            func columns(_ t: Int) {
                guard t != Node.absent else { return }
                let old = b.tensors[t].data
                guard old.count % c == 0 else { return }
                var new = old
                for r in 0..<(old.count / c) { for j in 0..<c { new[r * c + j] = old[r * c + order[j]] } }
                _ = b.replaceValues(of: t, with: new)
            }
            nodes[x].weights.forEach(columns)
            if let d = depthwise { nodes[d].weights.forEach(columns) }
            // the second's weights [(tap, ci)][n]: rows move within each tap
            var new = wy.data
            for t in 0..<taps {
                for j in 0..<c {
                    let dst = (t * c + j) * n, src = (t * c + order[j]) * n
                    for o in 0..<n { new[dst + o] = wy.data[src + o] }
                }
            }
            _ = b.replaceValues(of: nodes[y].weights[0], with: new)
            reordered += 1
        }
        return reordered
    }
}
