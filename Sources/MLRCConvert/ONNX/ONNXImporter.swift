import MLRCRuntime

/// An ONNX classifier imported as an mlrc network.
public struct ONNXImport {
    public var network: BuiltNetwork
    /// Class names from the model's metadata_props, when it has them for every class.
    public var labels: [String]?
    /// Activation scales and zero points of a quantized (QDQ) model, by graph value.
    public var activationQuantization: [Int: QuantParams]
    /// Per-output-channel weight scales of a QDQ model, by convolution node.
    public var weightScales: [Int: [Float]]
    /// Things the user should know (ops dropped, approximations).
    public var notes: [String]
    public var opset: Int64
    public var producer: String
}

/// Reads a .onnx file and rebuilds its graph from mlrc's ops: convolutions take their BatchNorm, bias and scale
/// neighbours into their weights and their activation into their output stage, layout changes (NCHW <-> NHWC
/// transposes, flattens, squeezes) become views of one value, and shape subgraphs are evaluated. An op mlrc
/// cannot run is refused by name; nothing is skipped silently.
public enum ONNXImporter {
    /// Whether a file may be ONNX: its name, or its first bytes (a ModelProto starts with ir_version). quantize
    /// tries the bytes only after the checkpoint readers refused the file.
    public static func looksLikeONNX(path: String, bytes: [UInt8]) -> Bool {
        if path.lowercased().hasSuffix(".onnx") { return true }
        // zip and pickle checkpoints start with 'PK' or 0x80; a ModelProto with field 1 (varint) starts with 0x08
        return bytes.count > 2 && bytes[0] == 0x08 && bytes[1] < 0x20
    }

    public static func load(path: String, options: BuildOptions, maxTensorBytes: Int) throws -> ONNXImport {
        let bytes = try FileBytes.read(path, limit: 1 << 34)
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { String(path[..<$0]) } ?? "."
        return try parse(bytes, directory: directory, options: options, maxTensorBytes: maxTensorBytes)
    }

    public static func parse(
        _ bytes: [UInt8], directory: String, options: BuildOptions, maxTensorBytes: Int
    )
        throws -> ONNXImport
    {
        let model = try ONNXModel(bytes: bytes)
        let importer = try ONNXGraphImporter(
            model: model, decoder: ONNXTensorDecoder(directory: directory, budget: maxTensorBytes), options: options)
        return try importer.run()
    }

    /// Every op the importer reads (some only in the forms its error messages name).
    public static let supportedOps: [String] = [
        "Add", "AveragePool", "BatchNormalization", "Cast", "Clip", "Concat", "Constant", "ConstantOfShape", "Conv",
        "DequantizeLinear", "Div", "Dropout", "Erf", "Flatten", "Gather", "Gelu", "Gemm", "GlobalAveragePool",
        "GlobalMaxPool", "HardSigmoid", "HardSwish", "Identity", "LayerNormalization", "LeakyRelu", "LogSoftmax",
        "MatMul", "MaxPool", "Mul", "Pad", "Pow", "QuantizeLinear", "Range", "ReduceMean", "Relu", "Reshape", "Shape",
        "Sigmoid", "Slice", "Softmax", "Split", "Sqrt", "Squeeze", "Sub", "Tanh", "Transpose", "Unsqueeze",
    ].sorted()
}

final class ONNXGraphImporter {
    let model: ONNXModel
    var decoder: ONNXTensorDecoder
    let options: BuildOptions
    let nodes: [ONNXNode]
    var consumers: [String: [Int]] = [:]
    var graphOutputs: Set<String> = []
    var values: [String: ONNXValue] = [:]
    var done = Set<Int>()
    var builder: GraphBuilder!
    var notes: [String] = []
    var activationQuantization: [Int: QuantParams] = [:]
    var weightScales: [Int: [Float]] = [:]
    /// Per-output-channel scales of weights that came out of DequantizeLinear, by value name.
    var dequantizedScales: [String: [Float]] = [:]
    /// Initializers not yet decoded (decoded on first use, so unused ones cost nothing).
    var initializers: [String: ONNXTensorProto] = [:]
    var opset: Int64 { model.opset }

    init(model: ONNXModel, decoder: ONNXTensorDecoder, options: BuildOptions) throws {
        self.model = model
        self.decoder = decoder
        self.options = options
        nodes = model.graph.nodes
        for n in nodes {
            // every op mlrc reads has an output, and all but Constant a first input
            guard let out = n.outputs.first, !out.isEmpty, n.opType == "Constant" || n.input(0) != nil else {
                throw MLRCError.format("ONNX node '\(n.label)' (\(n.opType)) has no output or no first input")
            }
        }
        for (i, n) in nodes.enumerated() {
            for input in n.inputs where !input.isEmpty { consumers[input, default: []].append(i) }
        }
        graphOutputs = Set(model.graph.outputs.map(\.name))
        for t in model.graph.initializers { initializers[t.name] = t }
    }

    // MARK: values

    func error(_ node: ONNXNode, _ message: String) -> MLRCError {
        MLRCError.format("ONNX node '\(node.label)' (\(node.opType), opset \(opset)): \(message)")
    }

    func lookup(_ name: String) throws -> ONNXValue? {
        if let v = values[name] { return v }
        if let t = initializers[name] {
            let c = ONNXValue.constant(try decoder.decode(t, in: model))
            values[name] = c
            initializers[name] = nil
            return c
        }
        return nil
    }

    func value(_ name: String, _ node: ONNXNode) throws -> ONNXValue {
        guard let v = try lookup(name) else {
            throw error(
                node, "reads '\(name)', which no earlier node produces (the graph must be topologically sorted)")
        }
        return v
    }

    func constant(_ name: String?) throws -> ONNXConstant? {
        guard let name, !name.isEmpty, case .constant(let c) = try lookup(name) else { return nil }
        return c
    }

    func feature(_ name: String, _ node: ONNXNode) throws -> (Int, ONNXLayout) {
        switch try value(name, node) {
        case .feature(let v, let l): return (v, l)
        case .constant: throw error(node, "input '\(name)' is a constant where mlrc needs a feature map")
        case .flattened: throw error(node, "input '\(name)' is a flattened map, which only Gemm and MatMul read")
        case .grouped: throw error(node, "input '\(name)' is a 5-D view mlrc reads only as a channel shuffle")
        case .padded: throw error(node, "input '\(name)' comes from a Pad that only a Conv may read")
        }
    }

    /// The single node reading `name`, when nothing else (a graph output included) does.
    func soleConsumer(_ name: String) -> Int? {
        guard !graphOutputs.contains(name), let c = consumers[name], c.count == 1, !done.contains(c[0]) else {
            return nil
        }
        return c[0]
    }

    /// A constant that broadcasts against a value of `layout` with `channels` channels as one number per channel.
    func channelVector(_ c: ONNXConstant, layout: ONNXLayout, channels: Int) -> [Float]? {
        guard c.dims.count <= layout.rank, c.count == 1 || c.count == channels else { return nil }
        let dims = [Int](repeating: 1, count: layout.rank - c.dims.count) + c.dims
        for (a, d) in dims.enumerated() where d != 1 && a != layout.channelAxis { return nil }
        return c.count == 1 ? [Float](repeating: c.floats[0], count: channels) : c.floats
    }

    func scalar(_ name: String) -> Double? {
        guard let c = try? constant(name), c.count == 1 else { return nil }
        return Double(c.floats[0])
    }

    var matcher: ONNXActivationMatcher {
        ONNXActivationMatcher(nodes: nodes, consumers: consumers, graphOutputs: graphOutputs, scalar: scalar)
    }

    /// An activation over `x` that only nodes from `first` on compute.
    func activation(from x: String, exclusive: Bool, first: Int) -> ONNXActivationMatcher.Match? {
        guard let m = matcher.match(from: x, exclusive: exclusive, done: done), m.nodes.allSatisfy({ $0 >= first })
        else { return nil }
        if m.activation == .gelu && m.error > 1e-5 {
            note("GELU written with tanh runs as the erf form (largest difference \(m.error))")
        }
        return m
    }

    func note(_ s: String) { if !notes.contains(s) { notes.append(s) } }

    // MARK: the graph

    func run() throws -> ONNXImport {
        guard opset >= 7 else {
            throw MLRCError.format("ONNX opset \(opset): mlrc reads opsets 7 to 21 (re-export with opset_version=17)")
        }
        if opset > 21 { note("opset \(opset) is newer than the 21 mlrc was checked against") }
        try defineInput()
        // Constant nodes first: exporters place them just before their first reader, which may come after the op
        // whose epilogue a fusion reads them from.
        for i in nodes.indices where nodes[i].opType == "Constant" && nodes[i].domain.isEmpty {
            try emit(i)
            done.insert(i)
        }
        for i in nodes.indices where !done.contains(i) {
            try emit(i)
        }
        let output = try classifierOutput()
        markGateConvolutions()
        let shape = builder.shape(0)
        let size = options.inputSize ?? shape.height
        var pre = ArchitectureRecognizer.preprocessing(size: size)
        pre.cropHeight = shape.height
        pre.cropWidth = shape.width
        if shape.height != shape.width {
            // the shorter side must cover the longer crop side whatever the photo's aspect ratio
            pre.resizeShorterSide = Int((Double(max(shape.height, shape.width)) / 0.875).rounded())
        }
        let classes = builder.shape(output).channels
        let name = model.graph.name.isEmpty ? "onnx" : "onnx:\(model.graph.name)"
        let convs = builder.nodes.filter { $0.op == .conv || $0.op == .depthwiseConv }.count
        let producer = model.producer.isEmpty ? "" : " from \(model.producer)"
        var net = BuiltNetwork(
            architecture: name,
            summary: "ONNX graph\(producer) (opset \(opset)): \(nodes.count) nodes -> \(builder.nodes.count) mlrc ops, "
                + "\(convs) convolutions, input \(shape.channels)x\(shape.height)x\(shape.width), \(classes) classes",
            builder: builder, output: output, numClasses: classes, preprocessing: pre)
        net.importedActivations = activationQuantization
        net.importedWeightScales = weightScales
        return ONNXImport(
            network: net, labels: labels(classes), activationQuantization: activationQuantization,
            weightScales: weightScales, notes: notes, opset: opset, producer: model.producer)
    }

    private func defineInput() throws {
        let inputs = model.graph.inputs.filter { initializers[$0.name] == nil }
        guard inputs.count == 1, let input = inputs.first else {
            throw MLRCError.format(
                "the ONNX graph has \(inputs.count) inputs (\(inputs.map(\.name).joined(separator: ", "))); "
                    + "mlrc imports classifiers of one image input")
        }
        guard let dims = input.dims, dims.count == 4 else {
            throw MLRCError.format(
                "ONNX input '\(input.name)' has shape \(input.dims.map { "\($0)" } ?? "unknown"); mlrc needs [N, 3, H, W]"
            )
        }
        func size(_ d: ONNXDimension) -> Int? {
            if case .value(let v) = d, v > 0, v <= 4096 { return Int(v) }
            return nil
        }
        // channels-last inputs (TensorFlow exports) are the same image seen as [N, H, W, C]
        let channelsLast = size(dims[1]) != 3 && size(dims[3]) == 3
        let c = size(channelsLast ? dims[3] : dims[1])
        guard c == 3 else {
            throw MLRCError.format(
                "ONNX input '\(input.name)' has \(c.map(String.init) ?? "unknown") channels; mlrc reads RGB images (3)")
        }
        let hw = channelsLast ? (dims[1], dims[2]) : (dims[2], dims[3])
        var h = size(hw.0), w = size(hw.1)
        if let n = options.inputSize {
            if let h0 = h, let w0 = w, h0 != n || w0 != n {
                throw MLRCError.argument("--input-size \(n): the ONNX model's input is fixed at \(h0)x\(w0)")
            }
            h = n
            w = n
        }
        guard let height = h, let width = w, height >= 8, width >= 8 else {
            throw MLRCError.argument(
                "the ONNX model's input '\(input.name)' has no fixed height and width; give one with --input-size N")
        }
        builder = GraphBuilder(input: Shape(height: height, width: width, channels: 3))
        values[input.name] = .feature(0, channelsLast ? .nhwc : .nchw)
    }

    private func classifierOutput() throws -> Int {
        guard let out = model.graph.outputs.first else { throw MLRCError.format("the ONNX graph has no output") }
        if model.graph.outputs.count > 1 {
            note("the graph has \(model.graph.outputs.count) outputs; mlrc returns the first, '\(out.name)'")
        }
        guard let v = try lookup(out.name) else {
            throw MLRCError.format("ONNX output '\(out.name)' is produced by no node")
        }
        guard case .feature(let index, _) = v else {
            throw MLRCError.format("ONNX output '\(out.name)' is not the network's class logits")
        }
        let s = builder.shape(index)
        guard s.pixels == 1, index > 0 else {
            throw MLRCError.format(
                "ONNX output '\(out.name)' is a \(s.channels)x\(s.height)x\(s.width) map; mlrc imports classifiers, "
                    + "whose output is one vector of class scores")
        }
        return index
    }

    /// The small fully connected layers of a squeeze-and-excitation gate stay fp32, as in the checkpoint builders.
    private func markGateConvolutions() {
        let producerOf = { (v: Int) in v - 1 }
        for n in builder.nodes where n.op == .channelScale && n.inputs.count == 2 {
            var stack = [n.inputs[1]]
            var seen = Set<Int>()
            while let v = stack.popLast(), v >= 1, seen.insert(v).inserted {
                let p = builder.nodes[producerOf(v)]
                guard builder.shape(v).pixels == 1, p.op != .globalAvgPool else { continue }
                if p.op == .conv { builder.keepFloat(v) }
                stack.append(contentsOf: p.inputs)
            }
        }
    }

    /// Class names from metadata_props: "labels" or "classes" (one per line, comma separated, or a JSON list), or a
    /// "names" dictionary {0: 'cat', ...}.
    private func labels(_ classes: Int) -> [String]? {
        for key in ["labels", "classes", "class_names", "names"] {
            guard let text = model.metadata[key] else { continue }
            var names: [String] = []
            let t = text.trimmingWhitespace
            if t.hasPrefix("["), case .array(let a)? = try? JSON.parse(ArraySlice(t.utf8)) {
                names = a.compactMap { if case .string(let s) = $0 { return s } else { return nil } }
            } else if t.hasPrefix("{") {
                // a Python dict repr: take the quoted values in order
                var inQuote: Character?
                var current = ""
                var afterColon = false
                for ch in t {
                    if let q = inQuote {
                        if ch == q {
                            inQuote = nil; if afterColon { names.append(current) }; current = ""
                        } else {
                            current.append(ch)
                        }
                    } else if ch == "'" || ch == "\"" {
                        inQuote = ch
                    } else if ch == ":" {
                        afterColon = true
                    } else if ch == "," {
                        afterColon = false
                    }
                }
            } else {
                let sep: Character = t.contains("\n") ? "\n" : ","
                names = t.split(separator: sep).map { String($0).trimmingWhitespace }
            }
            if names.count == classes { return names }
            note("metadata '\(key)' holds \(names.count) names for \(classes) classes; not used")
        }
        return nil
    }
}

extension String {
    var trimmingWhitespace: String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
