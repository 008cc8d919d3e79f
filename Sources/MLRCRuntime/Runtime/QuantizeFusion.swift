/// Float convolutions and residual adds whose result is quantized by the very next node: the kernel quantizes
/// each block while it is still in cache (mlrc_f32_conv_quantize, mlrc_f32_add_quantize) instead of writing the
/// floats out and reading them back, and the quantize node is skipped. The bytes are the same either way.
struct QuantizeFusion {
    /// What a fused producer step writes besides (or instead of) its floats.
    struct Target {
        /// The quantize step's output value and its quantization.
        let output: Int
        let quant: QuantParams
        /// Whether the floats must still be stored (another node or the logits read them).
        let keepsFloats: Bool
    }

    /// By producer step index.
    private(set) var targets: [Int: Target] = [:]
    /// By step index: a quantize step that its producer does (skipped when fusing).
    private(set) var doneByProducer: [Bool]

    init(graph: ValidatedGraph) {
        var readers = Array(repeating: 0, count: graph.shapes.count)
        for step in graph.steps {
            for v in step.node.inputs { readers[v] += 1 }
        }
        readers[graph.outputValue] += 1
        doneByProducer = Array(repeating: false, count: graph.steps.count)
        for (i, step) in graph.steps.enumerated() where i + 1 < graph.steps.count {
            let next = graph.steps[i + 1]
            guard next.node.op == .quantize, let quant = next.outputQuant, next.node.inputs.first == step.output else {
                continue
            }
            let others = readers[step.output] > 1
            switch step.node.op {
            case .conv where !others:  // the convolution's floats may stay unwritten
                targets[i] = Target(output: next.output, quant: quant, keepsFloats: false)
            case .add:
                targets[i] = Target(output: next.output, quant: quant, keepsFloats: others)
            default: continue
            }
            doneByProducer[i + 1] = true
        }
    }
}
