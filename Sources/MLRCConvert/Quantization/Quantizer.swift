import MLRCRuntime

/// How `quantize --precision int8` works; the defaults are what measured best (docs/QUANTIZATION.md).
public struct QuantizeOptions: Sendable {
    public var method: CalibrationMethod = .mse
    /// Layers that add more noise than this (local SQNR below it, dB) fall back to fp32 ...
    public var sqnrThreshold: Double = 32
    /// ... while the int8 model's mean logit cosine against fp32 on the calibration images is below this. 0.998 is
    /// where EfficientNet-Lite0 starts agreeing with fp32 on >= 95% of held-out photos (docs/QUANTIZATION.md).
    public var targetCosine: Double = 0.998
    public var autoFallback = true
    /// Checkpoint module names of convolutions kept in fp32 ("_conv_stem", "stages.0.1.pwconv1").
    public var keepFP32: [String] = []
    public var biasCorrection = true
    /// After the first measurement, also correct the mean error each int8 layer was measured to add (layers without
    /// a fused activation).
    public var measuredBiasCorrection = true
    /// Per-channel weight clipping chosen by least squared error (else the absolute maximum).
    public var weightSearch = true
    /// Rounds of measure-and-fall-back.
    public var maxRounds = 3
    /// Keep the weights of a general (not depthwise) convolution inside the pair bound (no two weights of a pair of
    /// input rows adding up past 128 in magnitude on one sign), which AVX2 CPUs without VNNI run about 1.3x faster,
    /// wherever the noise the layer adds (its local SQNR, measured both ways on the calibration images) is at most
    /// `pairBoundTolerance` dB worse for it, after reordering the channels between layers so that few pairs cross
    /// the bound (ChannelPairing); the rest keep all 8 bits. At 1 dB, all 33 of EfficientNet-Lite0's general
    /// convolutions pass, for a held-out logit cosine 0.0002 lower than with all 8 bits, the same as at 0.5 dB
    /// (docs/QUANTIZATION.md); ResNet-18's 3 x 3 convolutions mostly need more than 0.5.
    public var pairBoundWeights = true
    public var pairBoundTolerance = 1.0
    /// A quantized (QDQ) model's own activation quantization, by graph value, and weight scales, by convolution
    /// node: used instead of calibrated ones.
    public var importedActivations: [Int: QuantParams] = [:]
    public var importedWeightScales: [Int: [Float]] = [:]

    public init() {}
}

public struct QuantizationOutcome {
    public var bytes: [UInt8]
    /// Measured on the calibration images against the fp32 model.
    public var fidelity: Fidelity
    /// Convolutions left in fp32 and why.
    public var kept: [(name: String, reason: String)]
    public var quantizedLayers: Int
    public var totalLayers: Int
    /// int8 convolutions (fp32 graph nodes) whose weights are inside the pair bound, and how many general int8
    /// convolutions could have been.
    public var pairBounded: Set<Int> = []
    public var pairBoundCandidates: Int = 0
}

/// Post-training int8 quantization: calibrate activation ranges on real images, quantize every convolution,
/// measure each layer's noise against fp32 on the same images, and, while the model misses the fidelity target,
/// keep the noisiest layers in fp32.
public enum Quantizer {
    /// `progress(stage, done, total)` reports the long passes.
    public static func quantize(
        _ net: BuiltNetwork, labels: [String], images: [[Float]], options: QuantizeOptions,
        progress: (String, Int, Int) -> Void
    ) throws -> QuantizationOutcome {
        // Pair-bounded weights cost less where the channels a layer reads are paired well: reorder them first (the
        // network computes the same function; the fp32 reference below is the reordered one).
        if options.pairBoundWeights && options.importedWeightScales.isEmpty { ChannelPairing.apply(to: net) }
        let fp32Bytes = try ModelWriter.serialize(net, labels: labels)
        let fp32 = try fp32Bytes.withUnsafeBytes { try Model(copying: $0) }
        let convs = net.convolutionNodes

        var keep = Set<Int>()
        var kept: [(name: String, reason: String)] = []
        for (name, matches) in try layers(named: options.keepFP32, in: net) {
            for m in matches where !keep.contains(m) { keep.insert(m); kept.append((name, "--keep-fp32")) }
        }

        var calibration = try calibrate(
            fp32, net: net, convs: convs, images: images, method: options.method,
            progress: progress)
        for (v, p) in options.importedActivations where calibration.params[v] != nil { calibration.params[v] = p }
        calibration.weightScales = options.importedWeightScales
        var quantized = Set(convs).subtracting(keep)
        var round = 0
        var corrected = false
        /// The int8 model for the current choice of layers, and its fidelity on the calibration images.
        let correct = options.biasCorrection && options.measuredBiasCorrection
        // General convolutions may take pair-bounded weights (depthwise kernels never sum pairs of input rows).
        let general = Set(convs.filter { net.builder.nodes[$0].op == .conv })
        var pairBounded = Set<Int>()
        func buildAndMeasure(_ label: String) throws -> ([UInt8], Fidelity) {
            let graph = try QuantizedGraphBuilder.build(
                net, quantized: quantized, calibration: calibration,
                biasCorrection: options.biasCorrection,
                weightSearch: options.weightSearch, pairBounded: pairBounded.intersection(quantized))
            let bytes = try ModelWriter.serialize(graph.contents, labels: labels)
            let int8 = try bytes.withUnsafeBytes { try Model(copying: $0) }
            let fidelity = try FidelityMeter.measure(
                fp32: fp32, int8: int8, graph: graph, net: net, quantized: quantized,
                inputs: images, meanErrors: correct && !corrected
            ) { progress(label, $0, $1) }
            return (bytes, fidelity)
        }
        /// Once the layers are chosen: every general int8 convolution with pair-bounded weights, measured against
        /// the same model with full weights (`full`). A layer keeps the bound where its local SQNR loses at most
        /// pairBoundTolerance dB by it, and the model keeps them only if it is no worse as a whole (its logit cosine
        /// within 3e-4 and no lower than the target unless it already was, at most one more calibration image
        /// changing its top-1). When it is worse, the layers within half the tolerance are tried, then a quarter:
        /// the noise of many layers that each lose a little adds up on some nets (ShuffleNetV2) where fewer layers
        /// do not; if none passes, every layer keeps full weights.
        func boundPairs(_ fullBytes: [UInt8], _ full: Fidelity) throws -> ([UInt8], Fidelity) {
            let candidates = general.intersection(quantized)
            guard !candidates.isEmpty else { return (fullBytes, full) }
            pairBounded = candidates
            let (allBytes, all) = try buildAndMeasure("measuring pair-bounded weights")
            let before = Dictionary(full.layers.map { ($0.node, $0) }, uniquingKeysWith: { a, _ in a })
            let images = Double(max(full.images, 1))
            var tried = Set<Set<Int>>()
            for share in [1.0, 0.5, 0.25] {
                let tolerance = options.pairBoundTolerance * share
                let chosen = Set(
                    all.layers.filter { b in
                        guard candidates.contains(b.node), let f = before[b.node] else { return false }
                        return b.localSQNR >= f.localSQNR - tolerance
                    }.map(\.node))
                if chosen.isEmpty { break }
                guard tried.insert(chosen).inserted else { continue }
                pairBounded = chosen
                let (bytes, fidelity) =
                    chosen == candidates ? (allBytes, all) : try buildAndMeasure("measuring pair-bounded weights")
                let worse =
                    fidelity.meanCosine < full.meanCosine - 3e-4
                    || (fidelity.meanCosine < options.targetCosine && full.meanCosine >= options.targetCosine)
                    || fidelity.top1Agreement < full.top1Agreement - 1.5 / images
                if !worse { return (bytes, fidelity) }
            }
            pairBounded = []
            return (fullBytes, full)
        }
        while true {
            round += 1
            var (bytes, fidelity) = try buildAndMeasure("measuring (round \(round))")
            if correct && !corrected && !fidelity.meanErrors.isEmpty {
                // Once: take back the mean error each int8 layer was measured to add, then measure that model. (Its
                // logit cosine on the calibration images moves by a few 1e-4 either way; on held-out photos it
                // agreed with fp32 more often: docs/QUANTIZATION.md.)
                corrected = true
                calibration.measuredShift = fidelity.meanErrors
                (bytes, fidelity) = try buildAndMeasure("measuring (round \(round), bias corrected)")
            }
            var noisy = fidelity.layers.filter { $0.quantized && $0.localSQNR < options.sqnrThreshold }
            let faithful = fidelity.meanCosine >= options.targetCosine
            // Every layer above the threshold and the model still off target: deep, narrow nets (MobileNets) add up
            // many small errors. Then the noisiest tenth of the int8 layers goes back to fp32.
            var worstTenth = false
            if noisy.isEmpty && !faithful {
                let ranked = fidelity.layers.filter(\.quantized).sorted { $0.localSQNR < $1.localSQNR }
                noisy = Array(ranked.prefix(max(1, ranked.count / 10)))
                worstTenth = true
            }
            if !options.autoFallback || faithful || noisy.isEmpty || round >= options.maxRounds {
                if options.pairBoundWeights { (bytes, fidelity) = try boundPairs(bytes, fidelity) }
                return QuantizationOutcome(
                    bytes: bytes, fidelity: fidelity, kept: kept, quantizedLayers: quantized.count,
                    totalLayers: convs.count, pairBounded: pairBounded.intersection(quantized),
                    pairBoundCandidates: general.intersection(quantized).count)
            }
            for layer in noisy {
                quantized.remove(layer.node)
                kept.append(
                    (
                        layer.name,
                        "local SQNR \(fixed(layer.localSQNR)) dB "
                            + (worstTenth ? "(among the noisiest tenth)" : "< \(fixed(options.sqnrThreshold)) dB")
                            + " while the logit cosine was \(fixed(fidelity.meanCosine, 4)) < \(options.targetCosine)"
                    ))
            }
        }
    }

    /// The convolutions each name (a checkpoint module name, as --report prints them) stands for; an unknown name
    /// is an error that shows real ones. quantize calls this before the long passes, so a typo fails at once.
    public static func layers(named names: [String], in net: BuiltNetwork) throws -> [(String, [Int])] {
        let convs = net.convolutionNodes
        return try names.map { name in
            let matches = convs.filter { net.builder.nodeNames[$0] == name }
            guard !matches.isEmpty else {
                let known = convs.compactMap { net.builder.nodeNames[$0] }.prefix(8).joined(separator: ", ")
                throw MLRCError.argument(
                    "--keep-fp32 \(name): no convolution of that name (names look like: \(known), ...)")
            }
            return (name, matches)
        }
    }

    /// Two passes over the images through the fp32 model: ranges and channel means, then histograms.
    static func calibrate(
        _ fp32: Model, net: BuiltNetwork, convs: [Int], images: [[Float]], method: CalibrationMethod,
        progress: (String, Int, Int) -> Void
    ) throws -> CalibrationResult {
        let nodes = net.builder.nodes, shapes = net.builder.shapes
        var stats: [Int: ActivationStatistics] = [:], pre: [Int: ActivationStatistics] = [:]
        for i in convs {
            for v in [nodes[i].inputs[0], i + 1] where stats[v] == nil {
                stats[v] = ActivationStatistics(channels: shapes[v].channels)
            }
            pre[i + 1] = ActivationStatistics(channels: shapes[i + 1].channels)
        }
        let session = try Session(model: fp32, threads: 0)
        var logits = [Float](repeating: 0, count: fp32.numClasses)
        for pass in 0..<2 {
            if pass == 1 { stats.values.forEach { $0.startHistogram() }; pre.values.forEach { $0.startHistogram() } }
            session.observer = { o in
                guard let f = o.floats, let s = o.preActivation ? pre[o.value] : stats[o.value] else { return }
                if pass == 0 { s.observeRange(f, count: o.count) } else { s.observeHistogram(f, count: o.count) }
            }
            for (i, x) in images.enumerated() {
                x.withUnsafeBufferPointer { session.run(nhwc: $0.baseAddress!, logits: &logits) }
                progress("calibrating (pass \(pass + 1) of 2)", i + 1, images.count)
            }
        }
        var result = CalibrationResult(params: [:], preActivation: [:], channelMeans: [:])
        for (v, s) in stats {
            let r = s.range(method)
            result.params[v] = quantParams(lo: r.lo, hi: r.hi)
            result.channelMeans[v] = s.channelMeans
            result.channelEnergies[v] = s.channelEnergies
        }
        for (v, s) in pre where s.minValue <= s.maxValue {
            let r = s.range(method)
            result.preActivation[v] = quantParams(lo: r.lo, hi: r.hi)
        }
        return result
    }
}
