/// Symmetric int8 quantization of weights, one scale per output channel.
struct ChannelQuantizedWeights {
    var values: [Int8]
    var scales: [Float]
}

enum WeightQuantizer {
    /// Clip ratios tried per channel when searching: the one with the least squared error wins (a few large
    /// weights otherwise stretch the step for all the others).
    static let clipRatios: [Float] = [1.0, 0.97, 0.94, 0.9, 0.86, 0.82, 0.78, 0.74, 0.7]

    /// `channelOf(i)` names the output channel of element i.
    static func quantize(_ w: [Float], channels: Int, search: Bool, channelOf: (Int) -> Int) -> ChannelQuantizedWeights {
        var absmax = [Float](repeating: 0, count: channels)
        for i in 0..<w.count { let c = channelOf(i); absmax[c] = max(absmax[c], abs(w[i])) }
        var scales = absmax.map { $0 > 0 ? $0 / 127 : 1 }
        if search {
            let r = clipRatios.count
            var errors = [Double](repeating: 0, count: channels * r)
            for i in 0..<w.count {
                let c = channelOf(i)
                for k in 0..<r {
                    let s = scales[c] * clipRatios[k]
                    let q = min(max((w[i] / s).rounded(), -127), 127)
                    let d = Double(w[i] - q * s)
                    errors[c * r + k] += d * d
                }
            }
            for c in 0..<channels where absmax[c] > 0 {
                var best = 0
                for k in 1..<r where errors[c * r + k] < errors[c * r + best] { best = k }
                scales[c] *= clipRatios[best]
            }
        }
        var values = [Int8](repeating: 0, count: w.count)
        for i in 0..<w.count {
            let s = scales[channelOf(i)]
            values[i] = Int8(min(max((w[i] / s).rounded(), -127), 127))
        }
        return ChannelQuantizedWeights(values: values, scales: scales)
    }
}
