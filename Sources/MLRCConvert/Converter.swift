import MLRCRuntime

/// checkpoint -> recognised network -> graph -> .mlrc bytes: the whole conversion behind `quantize`.
public struct Converter {
    public enum Precision: String, CaseIterable, Sendable { case int8, fp32 }

    public var options: BuildOptions
    public var precision: Precision
    public var labelsFile: String?
    /// The most the checkpoint's tensors may take as fp32 (StateDict.defaultMaxTensorBytes).
    public var maxTensorBytes = StateDict.defaultMaxTensorBytes

    public init(options: BuildOptions, precision: Precision, labelsFile: String?) {
        self.options = options
        self.precision = precision
        self.labelsFile = labelsFile
    }

    public struct Result {
        public var network: BuiltNetwork
        public var bytes: [UInt8]
        public var origin: String
        public var labelSource: String
        /// Parameters and buffers read from the checkpoint.
        public var checkpointTensors: Int
    }

    /// Reads the checkpoint and builds the fp32 network. `finish` turns it into file bytes: the fp32 writer
    /// by default; int8 passes the quantizer.
    public func convert(
        checkpoint path: String,
        finish: ((BuiltNetwork, [String]) throws -> [UInt8])? = nil
    ) throws -> Result {
        let sd = try StateDict.load(path: path, maxTensorBytes: maxTensorBytes)
        let net = try ArchitectureRecognizer.build(sd, options: options)
        let (labels, source) = try Self.labels(count: net.numClasses, file: labelsFile)
        let bytes = try finish?(net, labels) ?? ModelWriter.serialize(net, labels: labels)
        return Result(
            network: net, bytes: bytes, origin: sd.origin, labelSource: source,
            checkpointTensors: sd.tensors.count)
    }

    /// --labels FILE (one per line), else ImageNet-1k names for 1000 classes, else class_N.
    static func labels(count: Int, file: String?) throws -> ([String], String) {
        if let file {
            let text = String(decoding: try FileBytes.read(file, limit: 64 << 20), as: UTF8.self)
            var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
                String($0.hasSuffix("\r") ? $0.dropLast() : $0)
            }
            while lines.last == "" { lines.removeLast() }
            guard lines.count == count else {
                throw MLRCError.argument("\(file) has \(lines.count) labels, the model has \(count) classes")
            }
            return (lines, file)
        }
        if count == 1000 { return (ImageNetLabels.names, "ImageNet-1k class names") }
        return ((0..<count).map { "class_\($0)" }, "class_N names (pass --labels FILE for real ones)")
    }
}
