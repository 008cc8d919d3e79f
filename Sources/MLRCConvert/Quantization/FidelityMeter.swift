#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif
import CMLRCKernels
import MLRCRuntime

/// How one convolution fares in the int8 model against the fp32 model.
public struct LayerFidelity: Sendable {
    public var name: String
    /// The fp32 graph's node index.
    public var node: Int
    public var quantized: Bool
    /// Signal-to-quantization-noise ratio of the layer's output in the int8 model (dB; noise accumulated from
    /// every earlier layer included).
    public var sqnr: Double
    /// The same with the layer fed the fp32 model's input: the noise this layer alone adds (its input
    /// quantization, weight rounding, requantization), in dB.
    public var localSQNR: Double
}

/// Agreement of an int8 model with its fp32 model on a set of inputs.
public struct Fidelity: Sendable {
    public var layers: [LayerFidelity]
    /// Share of inputs whose top-1 class is the same.
    public var top1Agreement: Double
    public var meanCosine: Double
    public var minCosine: Double
    public var images: Int
    /// Per quantized convolution output (fp32 value): each channel's mean error with fp32-exact inputs, the bias
    /// its int8 form adds (what empirical bias correction takes back).
    public var meanErrors: [Int: [Float]] = [:]
}

enum FidelityMeter {
    /// Runs both models on every input and compares each convolution's output (and its input) value by value:
    /// once as the int8 model runs (accumulated noise), once with every compared value replaced by the fp32
    /// model's before the next layer reads it (each layer's own noise, and with `meanErrors` its mean per channel).
    static func measure(
        fp32: Model, int8: Model, graph: QuantizedGraph, net: BuiltNetwork, quantized: Set<Int>,
        inputs: [[Float]], meanErrors wantErrors: Bool = false, progress: (Int, Int) -> Void
    ) throws -> Fidelity {
        let nodes = net.builder.nodes
        let convs = net.convolutionNodes
        var interest = Set<Int>()
        for i in convs { interest.insert(i + 1); interest.insert(nodes[i].inputs[0]) }
        let reference = try Session(model: fp32, threads: 0), candidate = try Session(model: int8, threads: 0)
        var stored: [Int: [Float]] = [:]
        var signal: [Int: Double] = [:], noise: [Int: Double] = [:], localNoise: [Int: Double] = [:]
        var isolate = false
        let outputs = wantErrors ? Set(quantized.map { $0 + 1 }) : []
        var errorSums: [Int: [Double]] = [:]
        reference.observer = { o in
            guard !o.preActivation, interest.contains(o.value), let f = o.floats else { return }
            stored[o.value] = Array(UnsafeBufferPointer(start: f, count: o.count))
        }
        candidate.observer = { o in
            guard !o.preActivation, let v = graph.origin[o.value], interest.contains(v), let ref = stored[v],
                ref.count == o.count
            else { return }
            var s = 0.0, e = 0.0
            let channels = net.builder.shapes[v].channels
            let collect = isolate && outputs.contains(v) && channels > 0 && o.count % channels == 0
            if collect && errorSums[v] == nil { errorSums[v] = [Double](repeating: 0, count: channels) }
            ref.withUnsafeBufferPointer { r in
                if collect {
                    let pixels = o.count / channels
                    errorSums[v]!.withUnsafeMutableBufferPointer { sums in
                        if let f = o.floats {
                            mlrc_channel_error_f32(r.baseAddress!, f, pixels, Int32(channels), sums.baseAddress!)
                        } else if let b = o.bytes, let q = o.quant {
                            mlrc_channel_error_u8(
                                r.baseAddress!, b, q.scale, q.zero, pixels, Int32(channels), sums.baseAddress!)
                        }
                    }
                }
                if let f = o.floats {
                    mlrc_noise_f32(r.baseAddress!, f, o.count, &s, &e)
                    if isolate { f.update(from: r.baseAddress!, count: o.count) }
                } else if let b = o.bytes, let q = o.quant {
                    mlrc_noise_u8(r.baseAddress!, b, q.scale, q.zero, o.count, &s, &e)
                    if isolate { mlrc_quantize_ref_u8(r.baseAddress!, o.count, q.scale, q.zero, b) }
                }
            }
            if isolate {
                localNoise[v, default: 0] += e
            } else {
                signal[v, default: 0] += s
                noise[v, default: 0] += e
            }
        }
        let classes = fp32.numClasses
        var a = [Float](repeating: 0, count: classes), b = a
        var agree = 0, cosines: [Double] = []
        for (i, input) in inputs.enumerated() {
            stored.removeAll(keepingCapacity: true)
            input.withUnsafeBufferPointer { x in
                reference.run(nhwc: x.baseAddress!, logits: &a)
                isolate = true
                candidate.run(nhwc: x.baseAddress!, logits: &b)
                isolate = false
                candidate.run(nhwc: x.baseAddress!, logits: &b)
            }
            if argmax(a) == argmax(b) { agree += 1 }
            cosines.append(cosine(a, b))
            progress(i + 1, inputs.count)
        }
        func nsr(_ v: Int, _ noise: [Int: Double]) -> Double {
            guard let s = signal[v], s > 0 else { return 0 }
            return (noise[v] ?? 0) / s
        }
        func db(_ r: Double) -> Double { r <= 0 ? 200 : min(-10 * log10(r), 200) }
        let layers = convs.map { i -> LayerFidelity in
            LayerFidelity(
                name: net.builder.nodeNames[i] ?? "node\(i)", node: i, quantized: quantized.contains(i),
                sqnr: db(nsr(i + 1, noise)), localSQNR: db(nsr(i + 1, localNoise)))
        }
        var meanErrors: [Int: [Float]] = [:]
        for (v, sums) in errorSums {
            let n = Double(max(net.builder.shapes[v].pixels * inputs.count, 1))
            meanErrors[v] = sums.map { Float($0 / n) }
        }
        return Fidelity(
            layers: layers, top1Agreement: Double(agree) / Double(max(inputs.count, 1)),
            meanCosine: cosines.reduce(0, +) / Double(max(cosines.count, 1)),
            minCosine: cosines.min() ?? 0, images: inputs.count, meanErrors: meanErrors)
    }

    static func argmax(_ x: [Float]) -> Int {
        var best = 0
        for i in x.indices where x[i] > x[best] { best = i }
        return best
    }

    static func cosine(_ a: [Float], _ b: [Float]) -> Double {
        var ab = 0.0, aa = 0.0, bb = 0.0
        for i in a.indices {
            ab += Double(a[i]) * Double(b[i]); aa += Double(a[i]) * Double(a[i]); bb += Double(b[i]) * Double(b[i])
        }
        return aa > 0 && bb > 0 ? ab / (aa * bb).squareRoot() : (aa == bb ? 1 : 0)
    }
}
