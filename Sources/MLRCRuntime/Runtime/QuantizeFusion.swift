/// Float convolutions and residual adds whose result is quantized by the very next node: the kernel quantizes
/// each block while it is still in cache (mlrc_f32_conv_quantize, mlrc_f32_add_quantize) instead of writing the
/// floats out and reading them back, and the quantize node is skipped. The bytes are the same either way.
struct QuantizeFusion {
    /// For a fused producer step: whether its float output must still be stored (another node or the logits read it).
    private(set) var keepsFloats: [Int: Bool] = [:]

    init(graph: ValidatedGraph) {
        var readers = Array(repeating: 0, count: graph.shapes.count)
        for step in graph.steps {
            for v in step.node.inputs { readers[v] += 1 }
        }
        readers[graph.outputValue] += 1
        for (i, step) in graph.steps.enumerated() where i + 1 < graph.steps.count {
            let next = graph.steps[i + 1]
            guard next.node.op == .quantize, next.outputQuant != nil, next.node.inputs.first == step.output else { continue }
            let others = readers[step.output] > 1
            switch step.node.op {
            case .conv where !others: keepsFloats[i] = false  // the convolution's floats may stay unwritten
            case .add: keepsFloats[i] = others
            default: break
            }
        }
    }

    /// The quantize step run inside producer step `index`, if any.
    func isFusedProducer(_ index: Int) -> Bool { keepsFloats[index] != nil }
}
