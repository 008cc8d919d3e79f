#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Softmax over logits and the best k classes.
public struct Prediction: Sendable, Equatable {
    public var index: Int
    public var probability: Float
}

public enum Classification {
    /// The k most probable classes, best first (ties: lower index first). Softmax is computed stably.
    public static func top(_ k: Int, logits: UnsafeBufferPointer<Float>) -> [Prediction] {
        guard !logits.isEmpty else { return [] }
        let peak = logits.max() ?? 0
        var total: Double = 0
        for v in logits { total += Double(expf(v - peak)) }
        var order = Array(logits.indices)
        order.sort { logits[$0] != logits[$1] ? logits[$0] > logits[$1] : $0 < $1 }
        return order.prefix(max(0, min(k, logits.count))).map {
            Prediction(index: $0, probability: Float(Double(expf(logits[$0] - peak)) / total))
        }
    }
}
