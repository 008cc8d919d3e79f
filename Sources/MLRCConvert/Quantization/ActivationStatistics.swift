#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif
import CMLRCKernels
import MLRCRuntime

/// How the range of an activation is chosen from its calibration statistics.
public enum CalibrationMethod: String, CaseIterable, Sendable {
    /// The observed minimum and maximum.
    case minmax
    /// Clip 0.01% of the values at each tail.
    case percentile
    /// The range whose 8-bit histogram diverges least from the observed one (Kullback-Leibler).
    case entropy
    /// The range with the least expected squared error: clipping error outside, rounding noise inside.
    case mse
}

/// Statistics of one activation over the calibration images, gathered in two passes: the range and per-channel
/// means first, then a histogram over that range.
final class ActivationStatistics {
    static let bins = 2048
    let channels: Int
    private(set) var minValue = Float.greatestFiniteMagnitude
    private(set) var maxValue = -Float.greatestFiniteMagnitude
    private var channelSums: [Double]
    private var channelSquares: [Double]
    private var pixels = 0
    private(set) var histogram: [Double] = []
    private var histLo: Float = 0
    private var binWidth: Float = 1

    init(channels: Int) {
        self.channels = max(channels, 1)
        channelSums = [Double](repeating: 0, count: self.channels)
        channelSquares = channelSums
    }

    /// Pass 1: range and per-channel sums of an NHWC tensor (the loop is C: quick even in a debug build).
    func observeRange(_ x: UnsafePointer<Float>, count: Int) {
        let pixelsHere = count / channels
        var lo = minValue, hi = maxValue
        mlrc_calib_range(x, pixelsHere, Int32(channels), &lo, &hi, &channelSums, &channelSquares)
        minValue = lo
        maxValue = hi
        pixels += pixelsHere
    }

    /// The mean of each channel over everything observed in pass 1.
    var channelMeans: [Float] { channelSums.map { Float($0 / Double(max(pixels, 1))) } }
    /// The variance of each channel: how much a weight's rounding error weighs in a layer's output once bias
    /// correction has taken back its mean (sum of error x mean).
    var channelEnergies: [Double] {
        let n = Double(max(pixels, 1))
        return zip(channelSums, channelSquares).map { sum, squares in max(squares / n - (sum / n) * (sum / n), 0) }
    }

    /// The range every candidate lies in: the observed one, widened to include 0 (so 0 is exact).
    var fullRange: (lo: Float, hi: Float) {
        guard minValue <= maxValue else { return (0, 1) }
        let lo = min(minValue, 0), hi = max(maxValue, 0)
        return hi - lo > 1e-12 ? (lo, hi) : (lo, lo + 1e-6)
    }

    func startHistogram() {
        let (lo, hi) = fullRange
        histLo = lo
        binWidth = (hi - lo) / Float(Self.bins)
        histogram = [Double](repeating: 0, count: Self.bins)
    }

    /// Pass 2.
    func observeHistogram(_ x: UnsafePointer<Float>, count: Int) {
        mlrc_calib_histogram(x, count, histLo, 1 / binWidth, Int32(Self.bins), &histogram)
    }

    /// The chosen range [lo, hi] (lo <= 0 <= hi).
    func range(_ method: CalibrationMethod) -> (lo: Float, hi: Float) {
        let full = fullRange
        guard !histogram.isEmpty, method != .minmax else { return full }
        let total = histogram.reduce(0, +)
        guard total > 0 else { return full }
        if method == .percentile {
            let tail = total * 1e-4
            var lo = full.lo, hi = full.hi
            var acc = 0.0
            if full.lo < 0 {
                for b in 0..<Self.bins { acc += histogram[b]; if acc > tail { lo = min(center(b), 0); break } }
            }
            acc = 0
            if full.hi > 0 {
                for b in stride(from: Self.bins - 1, through: 0, by: -1) {
                    acc += histogram[b]; if acc > tail { hi = max(center(b), 0); break }
                }
            }
            return hi - lo > 1e-12 ? (lo, hi) : full
        }
        // Grid search over clipped ranges: each end shrinks geometrically to a tenth of its full extent.
        let fractions = (0...24).map { Float(pow(0.1, Double($0) / 24)) }
        let los = full.lo < 0 ? fractions.map { full.lo * $0 } : [Float(0)]
        let his = full.hi > 0 ? fractions.map { full.hi * $0 } : [Float(0)]
        var best = full, bestCost = Double.infinity
        for lo in los {
            for hi in his where hi - lo > 1e-12 {
                let cost = method == .mse ? squaredError(lo, hi) : divergence(lo, hi, total)
                if cost < bestCost { bestCost = cost; best = (lo, hi) }
            }
        }
        return best
    }

    private func center(_ b: Int) -> Float { histLo + (Float(b) + 0.5) * binWidth }

    /// Expected squared error of 8-bit quantization on [lo, hi]: clipping outside, step^2/12 inside.
    private func squaredError(_ lo: Float, _ hi: Float) -> Double {
        let step = Double(hi - lo) / 255, inside = step * step / 12
        var e = 0.0
        for b in 0..<Self.bins where histogram[b] > 0 {
            let x = center(b)
            let d: Double = x < lo ? Double(lo - x) : (x > hi ? Double(x - hi) : 0)
            e += histogram[b] * (d > 0 ? d * d : inside)
        }
        return e
    }

    /// KL(P || Q) over the bins inside [lo, hi]: P is the histogram with the mass outside folded onto the edge
    /// bins (so clipping shows as spikes there), Q the unclipped in-range histogram merged into the 256
    /// quantization levels and spread evenly over each level's occupied bins (as TensorRT's calibrator does).
    private func divergence(_ lo: Float, _ hi: Float, _ total: Double) -> Double {
        let b0 = min(max(Int(((lo - histLo) / binWidth).rounded(.down)), 0), Self.bins - 1)
        let b1 = min(max(Int(((hi - histLo) / binWidth).rounded(.up)) - 1, b0), Self.bins - 1)
        let step = (hi - lo) / 255
        var mass = [Double](repeating: 0, count: 256), occupied = [Double](repeating: 0, count: 256)
        var level = [Int](repeating: 0, count: b1 - b0 + 1)
        for b in b0...b1 {
            let l = min(max(Int(((center(b) - lo) / step).rounded()), 0), 255)
            level[b - b0] = l
            if histogram[b] > 0 { mass[l] += histogram[b]; occupied[l] += 1 }
        }
        var below = 0.0, above = 0.0
        for b in 0..<b0 { below += histogram[b] }
        if b1 + 1 < Self.bins { for b in (b1 + 1)..<Self.bins { above += histogram[b] } }
        var kl = 0.0
        for b in b0...b1 {
            var p = histogram[b]
            if b == b0 { p += below }
            if b == b1 { p += above }
            guard p > 0 else { continue }
            let l = level[b - b0]
            let q = occupied[l] > 0 ? mass[l] / occupied[l] : 0
            kl += p / total * log(p / max(q, 1e-3))
        }
        return kl
    }
}

/// uint8 quantization of a range [lo, hi] containing 0: scale and the zero point that represents 0 exactly.
func quantParams(lo: Float, hi: Float) -> QuantParams {
    let lo = min(lo, 0), hi = max(hi, 0)
    let scale = max((hi - lo) / 255, 1e-8)
    let zero = Int32(min(max((-lo / scale).rounded(), 0), 255))
    return QuantParams(scale: scale, zero: zero)
}
