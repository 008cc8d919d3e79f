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
        /// Parameters and buffers read from the checkpoint (initializers of an ONNX model).
        public var checkpointTensors: Int
        /// What the user should know about the import (ONNX: ops dropped or approximated).
        public var notes: [String] = []
        /// A quantized ONNX (QDQ) model's activation and weight scales.
        public var imported: ONNXImport?
        /// What the training script recorded in the checkpoint (class names, preprocessing, training images).
        public var metadata: TrainingMetadata?
    }

    /// The fp32 network and where it came from.
    public struct Loaded {
        public var network: BuiltNetwork
        public var origin: String
        public var tensors: Int
        public var onnx: ONNXImport?
        public var metadata: TrainingMetadata?
        public var notes: [String] = []
    }

    /// Reads the checkpoint or ONNX model and builds the fp32 network.
    public func network(path: String) throws -> Loaded {
        let head = try FileBytes.readPrefix(path, count: 4)
        func onnx() throws -> Loaded {
            let imported = try ONNXImporter.load(path: path, options: options, maxTensorBytes: maxTensorBytes)
            var net = imported.network
            net.preprocessing = options.apply(to: net.preprocessing)
            let origin = "ONNX" + (imported.producer.isEmpty ? "" : " (\(imported.producer), opset \(imported.opset))")
            return Loaded(network: net, origin: origin, tensors: net.builder.tensors.count, onnx: imported)
        }
        if path.lowercased().hasSuffix(".onnx") { return try onnx() }
        let sd: StateDict
        do {
            sd = try StateDict.load(path: path, maxTensorBytes: maxTensorBytes)
        } catch let e as MLRCError where e.kind == .format && ONNXImporter.looksLikeONNX(path: path, bytes: head) {
            // not a checkpoint, but it starts like a ModelProto: an ONNX file under another name
            do { return try onnx() } catch { throw e }
        }
        let (filled, notes) = options.filled(from: sd.metadata)
        var net = try ArchitectureRecognizer.build(sd, options: filled)
        net.preprocessing = filled.apply(to: net.preprocessing)
        return Loaded(
            network: net, origin: sd.origin, tensors: sd.tensors.count, metadata: sd.metadata, notes: notes)
    }

    /// Reads the checkpoint and builds the fp32 network. `finish` turns it into file bytes: the fp32 writer
    /// by default; int8 passes the quantizer (which may calibrate on the training images the metadata names).
    public func convert(
        checkpoint path: String,
        finish: ((BuiltNetwork, [String], TrainingMetadata?) throws -> [UInt8])? = nil
    ) throws -> Result {
        let loaded = try network(path: path)
        let (net, imported) = (loaded.network, loaded.onnx)
        let p = net.preprocessing
        guard p.resizeShorterSide >= max(p.cropHeight, p.cropWidth) else {
            throw MLRCError.argument(
                "--resize \(p.resizeShorterSide) is smaller than the \(p.cropHeight)x\(p.cropWidth) crop")
        }
        var (labels, source) = try Self.labels(count: net.numClasses, file: labelsFile)
        if labelsFile == nil, let names = imported?.labels {
            (labels, source) = (names, "the ONNX model's metadata")
        }
        if labelsFile == nil, let meta = loaded.metadata, let names = meta.classes {
            guard names.count == net.numClasses else {
                throw MLRCError.format(
                    "\(meta.source) names \(names.count) classes, the network has \(net.numClasses) (--labels FILE overrides)"
                )
            }
            (labels, source) = (names, "\(names.count) class names from \(meta.source)")
        }
        let bytes = try finish?(net, labels, loaded.metadata) ?? ModelWriter.serialize(net, labels: labels)
        return Result(
            network: net, bytes: bytes, origin: loaded.origin, labelSource: source, checkpointTensors: loaded.tensors,
            notes: (imported?.notes ?? []) + loaded.notes, imported: imported, metadata: loaded.metadata)
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
