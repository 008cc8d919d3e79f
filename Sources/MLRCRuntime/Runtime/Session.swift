import CMLRCKernels

/// One thread's scratch memory for running a model: activation buffers planned from value lifetimes,
/// the im2col scratch and the thread count. All memory is allocated here, none while running.
public final class Session {
    public let model: Model
    public let threads: Int
    private let plan: MemoryPlan
    private let fusion: QuantizeFusion
    private let buffers: [AlignedFloatBuffer]
    private let scratch: AlignedFloatBuffer
    /// Pointwise int8 convolutions' biases with the input zero point folded in, at foldedOffset[step] (-1: none).
    private let foldedStorage: AlignedFloatBuffer
    private let foldedBias: UnsafeMutablePointer<Int32>
    private let foldedOffset: [Int]
    /// The zero point the folded steps pass to their GEMM kernel.
    private let foldedZero: [Int32]

    /// Each step's kernels, chosen once here from the kernel tables for the ISA level in force.
    private var plans: [mlrc_kernel_plan]
    /// Set when a kernel refused to run (a plan's scratch was missing): a bug, reported as an internal error.
    public private(set) var kernelError: String?

    /// Bytes this session allocated: the activation buffers (values share them by lifetime), the convolution
    /// scratch, and the folded int8 biases. The model's weights are mapped from its file and not counted.
    public var memory: (activations: Int, scratch: Int, biases: Int) {
        (plan.bufferSizes.reduce(0, +) * 4, scratch.count * 4, foldedStorage.count * 4)
    }

    /// threads: 0 means every core.
    public init(model: Model, threads: Int) throws {
        guard threads >= 0, threads <= 1024 else {
            throw MLRCError.argument("thread count \(threads) out of range 0...1024")
        }
        self.model = model
        self.threads = threads == 0 ? Int(mlrc_max_threads()) : threads
        fusion = QuantizeFusion(graph: model.graph)
        plan = MemoryPlan(graph: model.graph, fusion: fusion)
        buffers = try plan.bufferSizes.map { try AlignedFloatBuffer(count: $0) }
        let t = Int32(self.threads)
        var plans: [mlrc_kernel_plan] = []
        var scratchBytes = 0
        for (index, step) in model.graph.steps.enumerated() {
            var p = mlrc_kernel_plan()
            var g = step.geometry
            switch step.node.op {
            case .conv: mlrc_f32_conv_plan(&g, fusion.targets[index] != nil ? 1 : 0, t, &p)
            case .depthwiseConv: mlrc_f32_dwconv_plan(&g, t, &p)
            case .quantizedConv:
                // How large the weights' pairs get (measured when the model opened) decides whether the AVX2 rows
                // that sum pairs in int16 are exact.
                mlrc_q8_conv_plan_for(&g, model.pairPeaks[index], t, &p)
            case .quantizedDepthwiseConv: mlrc_q8_dwconv_plan(&g, t, &p)
            case .add where fusion.targets[index] != nil: mlrc_q8_quantize_plan(&p)
            case .quantize: mlrc_q8_quantize_plan(&p)
            case .maxPool where step.outputQuant != nil: mlrc_q8_maxpool_plan(&p)
            case .layerNorm: mlrc_layernorm_plan(&p)
            case .channelScale where step.outputQuant != nil: mlrc_q8_quantize_plan(&p)
            case .eca:  // one implementation, no table: only its scratch (two floats per channel)
                p.op = -1
                p.scratch_bytes = 8 * model.graph.shapes[step.node.inputs[0]].channels
            default: p.op = -1  // one implementation, no table
            }
            scratchBytes = max(scratchBytes, Int(p.scratch_bytes))
            plans.append(p)
        }
        self.plans = plans
        let scratchFloats = scratchBytes / 4 + 16
        guard scratchFloats <= GraphValidator.maxActivationFloats else {
            throw MLRCError(.memory, "convolution scratch of \(scratchFloats) floats exceeds the limit")
        }
        scratch = try AlignedFloatBuffer(count: scratchFloats)

        // Folding the zero point once saves every call a pass over the weights (the classifier reads them twice):
        // for the int8 convolutions the plan runs as one GEMM on their input. The GEMM kernel then gets the zero
        // point it is fastest with (0 on x86, 128 on ARM) and the bias the rest: bias - (zero - that) * sums.
        var offsets = Array(repeating: -1, count: model.graph.steps.count)
        var zeros = Array(repeating: Int32(0), count: model.graph.steps.count)
        var total = 0
        for (i, step) in model.graph.steps.enumerated() where step.node.op == .quantizedConv {
            let kernelZero = mlrc_q8_conv_gemm_input_zero(&plans[i])
            guard kernelZero >= 0, step.inputZero != kernelZero, model.data(step.node.weights[0]) != nil else {
                continue
            }
            offsets[i] = total
            zeros[i] = kernelZero
            total += Int(step.geometry.out_c)
        }
        foldedStorage = try AlignedFloatBuffer(count: total)  // int32 values in float-sized slots
        foldedBias = UnsafeMutableRawPointer(foldedStorage.pointer).assumingMemoryBound(to: Int32.self)
        foldedOffset = offsets
        foldedZero = zeros
        for (i, step) in model.graph.steps.enumerated() where offsets[i] >= 0 {
            let node = step.node
            let w = model.data(node.weights[0])?.assumingMemoryBound(to: Int8.self)
            let bias = node.weights.count > 1 ? model.data(node.weights[1])?.assumingMemoryBound(to: Int32.self) : nil
            mlrc_q8_fold_zero_point(
                step.geometry.out_c, step.geometry.in_c, w, bias, step.inputZero - zeros[i], foldedBias + offsets[i])
        }
    }

    /// The kernel each step runs, as the tables name it ("q8_conv_im2col+q8_gemm_6x8c4_avx2"); "" for steps whose
    /// op has one implementation.
    public var kernelNames: [String] {
        plans.enumerated().map { index, plan in
            if fusion.doneByProducer[index] { return "done by node \(index - 1)" }
            guard plan.op >= 0 else { return "" }
            var p = plan
            var buf = [CChar](repeating: 0, count: 128)
            let name = String(cString: mlrc_kernel_plan_name(&p, &buf, buf.count))
            return model.graph.steps[index].node.op == .add ? "f32_add+" + name : name
        }
    }

    private func check(_ status: Int32, _ index: Int) {
        if status != 0 && kernelError == nil { kernelError = "step \(index): kernel refused to run (status \(status))" }
    }

    private func buffer(_ value: Int) -> UnsafeMutablePointer<Float> { buffers[plan.bufferOfValue[value]].pointer }
    private func bytes(_ value: Int) -> UnsafeMutablePointer<UInt8> {
        UnsafeMutableRawPointer(buffer(value)).assumingMemoryBound(to: UInt8.self)
    }

    /// Runs on an NCHW float input (as PyTorch takes it); writes num_classes logits.
    public func run(nchw input: UnsafePointer<Float>, logits: UnsafeMutablePointer<Float>) {
        let s = model.inputShape
        mlrc_f32_nchw_to_nhwc(Int32(s.channels), s.pixels, input, buffer(0), Int32(threads))
        execute(logits: logits)
    }

    /// Preprocesses an 8-bit RGB image as the model file says, then runs it.
    public func run(
        rgb: UnsafePointer<UInt8>, width: Int, height: Int, rowStride: Int,
        logits: UnsafeMutablePointer<Float>
    ) throws {
        try Preprocessor.preprocess(
            rgb: rgb, width: width, height: height, rowStride: rowStride,
            spec: model.description.preprocessing, into: buffer(0))
        execute(logits: logits)
    }

    /// A value as an observer sees it: float32 data, or uint8 data with its quantization.
    public struct ObservedValue {
        public let value: Int
        /// True for the input of a table activation (GELU, sigmoid, ...) fused into a float32 convolution (seen before the activation).
        public let preActivation: Bool
        public let count: Int
        /// The value's buffer: an observer may overwrite it (fidelity measurement feeds each layer reference data).
        public let floats: UnsafeMutablePointer<Float>?
        public let bytes: UnsafeMutablePointer<UInt8>?
        public let quant: QuantParams?
    }

    /// Calibration and fidelity measurement: called after every node with its output. While set, float32
    /// convolutions with a GELU or sigmoid run it as a separate pass so the observer also sees its input.
    public var observer: ((ObservedValue) -> Void)? {
        didSet { hook = observer == nil ? nil : ValueObserver { [unowned self] v, pre in self.observe(v, pre: pre) } }
    }

    /// What runs around the steps (the observer, or the profiler while it runs).
    private var hook: ExecutionHook?

    /// Runs on a preprocessed NHWC float input (the input shape's count of floats).
    public func run(nhwc input: UnsafePointer<Float>, logits: UnsafeMutablePointer<Float>) {
        buffer(0).update(from: input, count: model.inputShape.count)
        execute(logits: logits)
    }

    private func observe(_ v: Int, pre: Bool = false) {
        guard let observer else { return }
        let count = model.graph.shapes[v].count
        if let q = model.graph.quant[v] {
            observer(ObservedValue(value: v, preActivation: pre, count: count, floats: nil, bytes: bytes(v), quant: q))
        } else {
            observer(
                ObservedValue(value: v, preActivation: pre, count: count, floats: buffer(v), bytes: nil, quant: nil))
        }
    }

    private func execute(logits: UnsafeMutablePointer<Float>) {
        let t = Int32(threads)
        let shapes = model.graph.shapes
        let hook = self.hook
        hook?.valueReady(0, preActivation: false)
        // Fused quantizes run inside their producer, except while a hook must see the floats in between.
        let fuse = hook?.unfused != true
        for (index, step) in model.graph.steps.enumerated() where !(fuse && fusion.doneByProducer[index]) {
            hook?.stepStarts(index)
            defer {
                hook?.stepEnds(index)
                hook?.valueReady(step.output, preActivation: false)
            }
            let node = step.node
            let x = buffer(node.inputs[0])
            let y = buffer(step.output)
            let inShape = shapes[node.inputs[0]], outShape = shapes[step.output]
            var g = step.geometry
            // Unfused, a table activation (GELU, sigmoid, ...) fused into a conv runs apart so the hook sees its input too.
            let split = !fuse && Activation.isTable(step.activation)
            // This step also does a quantize (which is then skipped).
            let fused = fuse ? fusion.targets[index] : nil
            let act = split ? Activation.none.rawValue : step.activation
            switch node.op {
            case .conv where fused != nil:
                if let f = fused {
                    check(
                        mlrc_f32_conv_quantize_run(
                            &plans[index], &g, x, model.floats(node.weights[0]), bias(node), y,
                            scratch.pointer, act, 1 / f.quant.scale, f.quant.zero, bytes(f.output),
                            t), index)
                }
            case .conv:
                check(
                    mlrc_f32_conv_run(
                        &plans[index], &g, x, model.floats(node.weights[0]), bias(node), y, scratch.pointer,
                        act, t), index)
                if split {
                    hook?.valueReady(step.output, preActivation: true);
                    mlrc_f32_activation(outShape.count, y, step.activation, t)
                }
            case .depthwiseConv:
                check(
                    mlrc_f32_dwconv_run(&plans[index], &g, x, model.floats(node.weights[0]), bias(node), y, act, t),
                    index)
                if split {
                    hook?.valueReady(step.output, preActivation: true);
                    mlrc_f32_activation(outShape.count, y, step.activation, t)
                }
            case .layerNorm:
                let gamma = node.weights.count == 2 ? model.floats(node.weights[0]) : nil
                let beta = node.weights.count == 2 ? model.floats(node.weights[1]) : nil
                if let q = step.outputQuant {
                    mlrc_q8_layernorm_quantize(
                        Int32(inShape.pixels), Int32(inShape.channels), x, gamma, beta, step.eps,
                        1 / q.scale, q.zero, bytes(step.output), t)
                } else {
                    mlrc_f32_layernorm(Int32(inShape.pixels), Int32(inShape.channels), x, gamma, beta, step.eps, y, t)
                }
            case .add where fused != nil:
                if let f = fused {
                    check(
                        mlrc_f32_add_quantize_run(
                            &plans[index], inShape.count, x, buffer(node.inputs[1]),
                            f.keepsFloats ? y : nil, step.activation, 1 / f.quant.scale,
                            f.quant.zero, bytes(f.output), t), index)
                }
            case .add:
                mlrc_f32_add(inShape.count, x, buffer(node.inputs[1]), y, step.activation, t)
            case .concat:
                var offset = 0
                for v in node.inputs {
                    let c = shapes[v].channels
                    if let q = model.graph.quant[v] {
                        mlrc_q8_dequantize_channels(
                            Int32(outShape.pixels), bytes(v), Int32(c), q.scale, q.zero, y,
                            Int32(outShape.channels), Int32(offset), t)
                    } else {
                        mlrc_f32_copy_channels(
                            Int32(outShape.pixels), buffer(v), Int32(c), y, Int32(outShape.channels),
                            Int32(offset), t)
                    }
                    offset += c
                }
            case .maxPool:
                if step.outputQuant != nil {
                    check(mlrc_q8_maxpool_run(&plans[index], &g, bytes(node.inputs[0]), bytes(step.output), t), index)
                } else {
                    mlrc_f32_maxpool(&g, x, y, t)
                }
            case .avgPool:
                mlrc_f32_avgpool(&g, x, y, step.countIncludePad ? 1 : 0, t)
            case .globalAvgPool:
                mlrc_f32_global_avgpool(Int32(inShape.pixels), Int32(inShape.channels), x, y)
            case .eca:
                let k = model.description.tensors[node.weights[0]].elementCount
                mlrc_f32_eca(
                    Int32(inShape.pixels), Int32(inShape.channels), x, model.floats(node.weights[0]), Int32(k),
                    y, scratch.pointer, t)
            case .channelAffine:
                mlrc_f32_channel_affine(
                    Int32(inShape.pixels), Int32(inShape.channels), x, model.floats(node.weights[0]),
                    model.floats(node.weights[1]), y, step.activation, t)
            case .activation:
                y.update(from: x, count: inShape.count)
                mlrc_f32_activation(inShape.count, y, step.activation, t)
            case .quantize:
                if let q = step.outputQuant {
                    check(
                        mlrc_q8_quantize_run(
                            &plans[index], inShape.count, x, 1 / q.scale, q.zero, bytes(step.output), t),
                        index)
                }
            case .channelScale:
                let gate = buffer(node.inputs[1])
                if let q = step.outputQuant {
                    check(
                        mlrc_f32_channel_scale_quantize_run(
                            &plans[index], Int32(inShape.pixels), Int32(inShape.channels), x, gate, 1 / q.scale,
                            q.zero, bytes(step.output), t), index)
                } else {
                    mlrc_f32_channel_scale(Int32(inShape.pixels), Int32(inShape.channels), x, gate, y, t)
                }
            case .channelSlice:
                if case let .channelSlice(offset, count) = step.params {
                    mlrc_f32_slice_channels(Int32(inShape.pixels), x, Int32(inShape.channels), offset, count, y, t)
                }
            case .channelShuffle:
                if case let .channelShuffle(groups) = step.params {
                    mlrc_f32_channel_shuffle(Int32(inShape.pixels), Int32(inShape.channels), groups, x, y, t)
                }
            case .quantizedConv, .quantizedDepthwiseConv:
                var out = step.q8Output
                out.lut = step.lutTensor.flatMap { model.data($0) }?.assumingMemoryBound(to: UInt8.self)
                let w = model.data(node.weights[0])?.assumingMemoryBound(to: Int8.self)
                let bias = model.data(node.weights[1])?.assumingMemoryBound(to: Int32.self)
                let scale = model.floats(node.weights[2])
                if node.op == .quantizedConv && foldedOffset[index] >= 0 {
                    check(
                        mlrc_q8_conv_run(
                            &plans[index], &g, bytes(node.inputs[0]), foldedZero[index], w,
                            foldedBias + foldedOffset[index],
                            scale, &out, y, scratch.pointer, t), index)
                } else if node.op == .quantizedConv {
                    check(
                        mlrc_q8_conv_run(
                            &plans[index], &g, bytes(node.inputs[0]), step.inputZero, w, bias, scale, &out, y,
                            scratch.pointer, t), index)
                } else {
                    check(
                        mlrc_q8_dwconv_run(
                            &plans[index], &g, bytes(node.inputs[0]), step.inputZero, w, bias, scale, &out,
                            y, scratch.pointer, t), index)
                }
            }
        }
        logits.update(from: buffer(model.graph.outputValue), count: model.numClasses)
    }

    /// Runs `runs` times on the last input (value 0 keeps its own buffer) and returns per-node times in ms (averaged).
    public func profile(runs: Int, logits: UnsafeMutablePointer<Float>) -> [Double] {
        let timer = StepTimer(steps: model.graph.steps.count), saved = hook
        hook = timer
        defer { hook = saved }
        for _ in 0..<max(runs, 1) { execute(logits: logits) }
        return timer.nanoseconds.map { Double($0) / 1e6 / Double(max(runs, 1)) }
    }

    private func bias(_ node: Node) -> UnsafePointer<Float>? {
        node.weights.count > 1 ? model.floats(node.weights[1]) : nil
    }
}
