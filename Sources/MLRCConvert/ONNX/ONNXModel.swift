import MLRCRuntime

/// The parts of an ONNX ModelProto a CNN classifier needs, read from the protobuf wire format (field numbers from
/// onnx.proto). Tensor data stays where it is in the file (`raw`) until the importer asks for it; everything else a
/// model may carry (training info, functions, sparse initializers, documentation) is skipped.
struct ONNXModel {
    var irVersion: Int64 = 0
    /// Operator set version per domain ("" is the default ONNX domain).
    var opsets: [String: Int64] = [:]
    var producer = ""
    var graph = ONNXGraph()
    var metadata: [String: String] = [:]
    /// The whole file (tensors point into it).
    let bytes: [UInt8]

    /// The most nodes, initializers or graph inputs a model may have: a million is far beyond any CNN.
    static let maxEntries = 1 << 20

    init(bytes: [UInt8]) throws {
        self.bytes = bytes
        var r = ProtobufReader(bytes)
        var sawGraph = false
        while let (field, type) = try r.field() {
            switch field {
            case 1: irVersion = try r.int64()
            case 2: producer = try r.string()
            case 7:
                try ProtobufReader.expect(type, .lengthDelimited, "ModelProto.graph")
                graph = try ONNXGraph(bytes, try r.lengthDelimited())
                sawGraph = true
            case 8:
                try ProtobufReader.expect(type, .lengthDelimited, "ModelProto.opset_import")
                var o = ProtobufReader(bytes, range: try r.lengthDelimited())
                var domain = "", version: Int64 = 0
                while let (f, t) = try o.field() {
                    switch f {
                    case 1: domain = try o.string()
                    case 2: version = try o.int64()
                    default: try o.skip(t)
                    }
                }
                opsets[domain == "ai.onnx" ? "" : domain] = version
            case 14:
                try ProtobufReader.expect(type, .lengthDelimited, "ModelProto.metadata_props")
                let (k, v) = try Self.stringPair(bytes, try r.lengthDelimited())
                metadata[k] = v
            default: try r.skip(type)
            }
        }
        guard sawGraph, irVersion >= 1 else {
            throw MLRCError.format("not an ONNX model: no graph and IR version in the file")
        }
    }

    /// A StringStringEntryProto (key = 1, value = 2).
    static func stringPair(_ bytes: [UInt8], _ range: Range<Int>) throws -> (String, String) {
        var r = ProtobufReader(bytes, range: range)
        var key = "", value = ""
        while let (f, t) = try r.field() {
            switch f {
            case 1: key = try r.string()
            case 2: value = try r.string()
            default: try r.skip(t)
            }
        }
        return (key, value)
    }

    /// The default domain's opset.
    var opset: Int64 { opsets[""] ?? 0 }
}

struct ONNXGraph {
    var name = ""
    var nodes: [ONNXNode] = []
    var initializers: [ONNXTensorProto] = []
    var inputs: [ONNXValueInfo] = []
    var outputs: [ONNXValueInfo] = []

    init() {}

    init(_ bytes: [UInt8], _ range: Range<Int>) throws {
        var r = ProtobufReader(bytes, range: range)
        while let (field, type) = try r.field() {
            switch field {
            case 1, 5, 11, 12:
                try ProtobufReader.expect(type, .lengthDelimited, "GraphProto field \(field)")
                let sub = try r.lengthDelimited()
                guard nodes.count + initializers.count + inputs.count + outputs.count < ONNXModel.maxEntries else {
                    throw MLRCError.format("ONNX graph has more than \(ONNXModel.maxEntries) entries")
                }
                switch field {
                case 1: nodes.append(try ONNXNode(bytes, sub))
                case 5: initializers.append(try ONNXTensorProto(bytes, sub))
                case 11: inputs.append(try ONNXValueInfo(bytes, sub))
                default: outputs.append(try ONNXValueInfo(bytes, sub))
                }
            case 2: name = try r.string()
            default: try r.skip(type)
            }
        }
    }
}

struct ONNXNode {
    var inputs: [String] = []
    var outputs: [String] = []
    var name = ""
    var opType = ""
    var domain = ""
    var attributes: [String: ONNXAttribute] = [:]

    init(opType: String, inputs: [String], outputs: [String]) {
        (self.opType, self.inputs, self.outputs) = (opType, inputs, outputs)
    }

    init(_ bytes: [UInt8], _ range: Range<Int>) throws {
        var r = ProtobufReader(bytes, range: range)
        while let (field, type) = try r.field() {
            switch field {
            case 1, 2:
                guard inputs.count + outputs.count < 65536 else {
                    throw MLRCError.format("ONNX node with more than 65536 inputs and outputs")
                }
                if field == 1 { inputs.append(try r.string()) } else { outputs.append(try r.string()) }
            case 3: name = try r.string()
            case 4: opType = try r.string()
            case 7: domain = try r.string()
            case 5:
                try ProtobufReader.expect(type, .lengthDelimited, "NodeProto.attribute")
                guard attributes.count < 1024 else { throw MLRCError.format("ONNX node with over 1024 attributes") }
                let a = try ONNXAttribute(bytes, try r.lengthDelimited())
                attributes[a.name] = a
            default: try r.skip(type)
            }
        }
        if domain == "ai.onnx" { domain = "" }
    }

    /// How errors name the node: its name, or its op and first output.
    var label: String { name.isEmpty ? "\(opType) -> \(outputs.first ?? "?")" : name }

    /// Input i, or nil when absent or left empty (an optional input skipped).
    func input(_ i: Int) -> String? { i < inputs.count && !inputs[i].isEmpty ? inputs[i] : nil }

    func int(_ name: String) -> Int64? { attributes[name]?.i }
    func float(_ name: String) -> Float? { attributes[name]?.f }
    func ints(_ name: String) -> [Int64]? { attributes[name]?.ints }
    func string(_ name: String) -> String? { attributes[name]?.s }
}

struct ONNXAttribute {
    var name = ""
    var f: Float?
    var i: Int64?
    var s: String?
    var t: ONNXTensorProto?
    var floats: [Float]?
    var ints: [Int64]?
    /// A subgraph (If, Loop): never followed, only noted so the op is refused by name.
    var hasGraph = false

    init(_ bytes: [UInt8], _ range: Range<Int>) throws {
        var r = ProtobufReader(bytes, range: range)
        var fl: [Float] = [], il: [Int64] = []
        var sawFloats = false, sawInts = false
        while let (field, type) = try r.field() {
            switch field {
            case 1: name = try r.string()
            case 2:
                try ProtobufReader.expect(type, .fixed32, "AttributeProto.f")
                f = try r.float()
            case 3: i = try r.int64()
            case 4: s = try r.string()
            case 5:
                try ProtobufReader.expect(type, .lengthDelimited, "AttributeProto.t")
                t = try ONNXTensorProto(bytes, try r.lengthDelimited())
            case 6, 11:
                hasGraph = true
                try r.skip(type)
            case 7:
                sawFloats = true
                try r.repeatedFloat(type, into: &fl, limit: 1 << 20)
            case 8:
                sawInts = true
                try r.repeatedVarint(type, into: &il, limit: 1 << 20)
            default: try r.skip(type)
            }
        }
        if sawFloats { floats = fl }
        if sawInts { ints = il }
    }
}

/// A dimension of a declared input or output shape.
enum ONNXDimension: Equatable {
    case value(Int64)
    case symbolic(String)
}

struct ONNXValueInfo {
    var name = ""
    var elementType: Int32 = 0
    /// nil when the type carries no shape.
    var dims: [ONNXDimension]?

    init(_ bytes: [UInt8], _ range: Range<Int>) throws {
        var r = ProtobufReader(bytes, range: range)
        while let (field, type) = try r.field() {
            switch field {
            case 1: name = try r.string()
            case 2:
                // TypeProto.tensor_type (1) -> elem_type (1), shape (2) -> dim (1) -> dim_value (1) | dim_param (2)
                try ProtobufReader.expect(type, .lengthDelimited, "ValueInfoProto.type")
                var tp = ProtobufReader(bytes, range: try r.lengthDelimited())
                while let (f, t) = try tp.field() {
                    guard f == 1, t == .lengthDelimited else { try tp.skip(t); continue }
                    var tensor = ProtobufReader(bytes, range: try tp.lengthDelimited())
                    while let (f2, t2) = try tensor.field() {
                        if f2 == 1 && t2 == .varint {
                            elementType = try tensor.int32()
                        } else if f2 == 2 && t2 == .lengthDelimited {
                            var shape = ProtobufReader(bytes, range: try tensor.lengthDelimited())
                            var d: [ONNXDimension] = []
                            while let (f3, t3) = try shape.field() {
                                guard f3 == 1, t3 == .lengthDelimited else { try shape.skip(t3); continue }
                                guard d.count < 16 else { throw MLRCError.format("ONNX value \(name) of rank > 16") }
                                var dim = ProtobufReader(bytes, range: try shape.lengthDelimited())
                                var value = ONNXDimension.symbolic("?")
                                while let (f4, t4) = try dim.field() {
                                    if f4 == 1 && t4 == .varint {
                                        value = .value(try dim.int64())
                                    } else if f4 == 2 && t4 == .lengthDelimited {
                                        value = .symbolic(try dim.string())
                                    } else {
                                        try dim.skip(t4)
                                    }
                                }
                                d.append(value)
                            }
                            dims = d
                        } else {
                            try tensor.skip(t2)
                        }
                    }
                }
            default: try r.skip(type)
            }
        }
    }
}

/// A TensorProto as stored: its data is decoded by ONNXTensorData.
struct ONNXTensorProto {
    var name = ""
    var dims: [Int64] = []
    var dataType: Int32 = 0
    var raw: Range<Int>?
    var floatData: [Float] = []
    /// int32_data: also holds int8/uint8/int16/bool/float16 values, one per entry.
    var int32Data: [Int64] = []
    var int64Data: [Int64] = []
    var doubleData: [Double] = []
    var external: [String: String] = [:]
    var isExternal = false

    init(_ bytes: [UInt8], _ range: Range<Int>) throws {
        var r = ProtobufReader(bytes, range: range)
        let limit = max(range.count, 16)  // no more values than the message has bytes
        while let (field, type) = try r.field() {
            switch field {
            case 1:
                try r.repeatedVarint(type, into: &dims, limit: 16)
            case 2: dataType = try r.int32()
            case 4: try r.repeatedFloat(type, into: &floatData, limit: limit)
            case 5: try r.repeatedVarint(type, into: &int32Data, limit: limit)
            case 7: try r.repeatedVarint(type, into: &int64Data, limit: limit)
            case 10: try r.repeatedDouble(type, into: &doubleData, limit: limit)
            case 8: name = try r.string()
            case 9:
                try ProtobufReader.expect(type, .lengthDelimited, "TensorProto.raw_data")
                raw = try r.lengthDelimited()
            case 13:
                try ProtobufReader.expect(type, .lengthDelimited, "TensorProto.external_data")
                guard external.count < 64 else { throw MLRCError.format("ONNX tensor \(name): too many external keys") }
                let (k, v) = try ONNXModel.stringPair(bytes, try r.lengthDelimited())
                external[k] = v
            case 14: isExternal = try r.int32() == 1
            default: try r.skip(type)
            }
        }
    }
}
