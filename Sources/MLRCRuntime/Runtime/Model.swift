/// An opened, checked model: immutable, so one instance serves any number of sessions on any threads.
public final class Model: @unchecked Sendable {
    public let description: ModelDescription
    public let graph: ValidatedGraph
    let storage: ModelBytes

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
    }

    /// The float data of tensor `index` (validated to be float32, aligned and inside the file), or nil when absent.
    func floats(_ index: Int) -> UnsafePointer<Float>? {
        guard index != Node.absent, index >= 0, index < description.tensors.count,
              let base = storage.bytes.baseAddress
        else { return nil }
        return (base + description.tensors[index].offset).assumingMemoryBound(to: Float.self)
    }
}
