import CMLRCKernels

/// An opened, checked model: immutable, so one instance serves any number of sessions on any threads.
public final class Model: @unchecked Sendable {
    public let description: ModelDescription
    public let graph: ValidatedGraph
    let storage: ModelBytes
    /// Per step, for int8 general convolutions: how large the packed weights' pairs get
    /// (mlrc_q8_conv_weight_pair_peak), which decides whether the AVX2 rows that sum pairs in int16 are exact.
    /// Measured once here, so that every session of the model plans from it without a pass over the weights.
    private(set) var pairPeaks: [Int32] = []

    public var labels: [String] { description.labels }
    public var inputShape: Shape { description.inputShape }
    public var numClasses: Int { description.labels.count }

    public convenience init(path: String) throws {
        try self.init(bytes: try ModelBytes.map(path: path))
    }

    public convenience init(copying data: UnsafeRawBufferPointer) throws {
        try self.init(bytes: try ModelBytes.copy(of: data))
    }

    init(bytes: ModelBytes) throws {
        storage = bytes
        description = try ModelFileReader.read(bytes.bytes)
        graph = try GraphValidator.validate(description)
        var peaks = Array(repeating: Int32(MLRC_Q8_PAIR_PEAK_UNKNOWN), count: graph.steps.count)
        // A non-finite requantization scale would turn into an out-of-range table index: refuse it here.
        for (index, step) in graph.steps.enumerated()
        where step.node.op == .quantizedConv || step.node.op == .quantizedDepthwiseConv {
            let t = step.node.weights[2]
            guard let p = floats(t) else { throw MLRCError.format("graph: missing scales") }
            for i in 0..<description.tensors[t].elementCount where !p[i].isFinite {
                throw MLRCError.format("graph: tensor \(t) holds a non-finite scale")
            }
            // int8 weights are symmetric, [-127, 127]: the ARM kernels sum two 8-bit products in int16, which
            // -128 x -128 twice would overflow.
            let w = step.node.weights[0]
            guard let raw = data(w) else { throw MLRCError.format("graph: missing weights") }
            let values = UnsafeBufferPointer(
                start: raw.assumingMemoryBound(to: Int8.self), count: description.tensors[w].elementCount)
            if values.contains(-128) {
                throw MLRCError.format("graph: tensor \(w) holds the int8 weight -128 (weights lie in [-127, 127])")
            }
            if step.node.op == .quantizedConv {
                var g = step.geometry
                peaks[index] = mlrc_q8_conv_weight_pair_peak(&g, raw.assumingMemoryBound(to: Int8.self))
            }
        }
        pairPeaks = peaks
    }

    /// The raw data of tensor `index` (validated: type, size, alignment, inside the file), or nil when absent.
    func data(_ index: Int) -> UnsafeRawPointer? {
        guard index != Node.absent, index >= 0, index < description.tensors.count,
            let base = storage.bytes.baseAddress
        else { return nil }
        return UnsafeRawPointer(base + description.tensors[index].offset)
    }

    /// The float data of tensor `index` (validated to be float32, aligned and inside the file), or nil when absent.
    func floats(_ index: Int) -> UnsafePointer<Float>? {
        guard index != Node.absent, index >= 0, index < description.tensors.count,
            let base = storage.bytes.baseAddress
        else { return nil }
        return (base + description.tensors[index].offset).assumingMemoryBound(to: Float.self)
    }
}
