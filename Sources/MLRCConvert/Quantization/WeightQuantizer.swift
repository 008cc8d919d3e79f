import CMLRCKernels

/// Symmetric int8 quantization of weights, one scale per output channel.
struct ChannelQuantizedWeights {
    var values: [Int8]
    var scales: [Float]
}

enum WeightQuantizer {
    /// Clip ratios tried per channel when searching: the one with the least squared error wins (a few large
    /// weights otherwise stretch the step for all the others).
    static let clipRatios: [Float] = [1.0, 0.97, 0.94, 0.9, 0.86, 0.82, 0.78, 0.74, 0.7]
    /// Pair-bounded weights also try coarser steps, up to the 7-bit one (absolute maximum / 64), where no pair can
    /// pass the bound: when many pairs would, a coarser step for all can cost less than moving those.
    static let pairBoundRatios: [Float] = clipRatios + [1.05, 1.1, 1.2, 1.3, 1.45, 1.6, 1.8, 127 / 64]

    /// `w` in quantize's layout: output channel of element i = (i / (k * coG)) * coG + i % coG (a general conv
    /// [group][k][co of the group]; a depthwise conv [taps][C] is coG = C, k = taps). The loops are C
    /// (mlrc_quantize_weights) so that a debug build of quantize is not slow.
    /// pairBound: keep every pair of rows k = 2j, 2j + 1 of a channel inside the bound that lets AVX2 CPUs sum
    /// uint8 x int8 pairs in int16 (docs/QUANTIZATION.md; the runtime checks it again before it relies on it),
    /// rounding by the energies of the input channels (cinG per group; empty: all alike).
    static func quantize(
        _ w: [Float], channels: Int, coG: Int, k: Int, search: Bool,
        pairBound: (cinG: Int, energies: [Double])? = nil
    ) -> ChannelQuantizedWeights {
        var values = [Int8](repeating: 0, count: w.count)
        var scales = [Float](repeating: 0, count: channels)
        let ratios = pairBound != nil ? pairBoundRatios : (search ? clipRatios : [1.0])
        var errors = [Double](repeating: 0, count: max(channels * ratios.count, 1))
        let energies = pairBound?.energies ?? []
        energies.withUnsafeBufferPointer { e in
            mlrc_quantize_weights(
                w, w.count, Int32(coG), Int32(max(k, 1)), Int32(channels), ratios, Int32(ratios.count),
                pairBound != nil ? Int32(MLRC_Q8_MADDUBS_PAIR_LIMIT) : 0, Int32(max(pairBound?.cinG ?? 1, 1)),
                e.isEmpty ? nil : e.baseAddress, Int32(e.count), &scales, &errors, &values)
        }
        return ChannelQuantizedWeights(values: values, scales: scales)
    }

    /// Quantization with given scales (a QDQ model's), or nil when they do not fit: codes round to nearest and
    /// clamp to [-127, 127].
    static func quantize(_ w: [Float], channels: Int, coG: Int, k: Int, scales: [Float]) -> ChannelQuantizedWeights? {
        guard scales.count == channels, coG >= 1, scales.allSatisfy({ $0 > 0 && $0.isFinite }) else { return nil }
        var values = [Int8](repeating: 0, count: w.count)
        let block = max(k, 1) * coG
        for i in w.indices {
            let c = (i / block) * coG + i % coG
            guard c < channels else { return nil }
            values[i] = Int8(max(-127, min(127, (w[i] / scales[c]).rounded(.toNearestOrEven))))
        }
        return ChannelQuantizedWeights(values: values, scales: scales)
    }
}
