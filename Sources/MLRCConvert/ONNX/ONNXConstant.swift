import MLRCRuntime

/// A constant tensor of the graph (an initializer, a Constant node, or a folded shape computation), as floats; integer
/// tensors also keep their exact values (shapes, axes, Slice bounds such as INT64_MAX) when they are small.
struct ONNXConstant {
    var dims: [Int]
    var floats: [Float]
    /// Exact values of an integer tensor of up to `exactLimit` elements, else nil.
    var ints: [Int64]?
    /// The stored element type, for tensors read from the file.
    var elementType: ONNXDataType?

    static let exactLimit = 1 << 16

    init(dims: [Int], floats: [Float], ints: [Int64]? = nil) {
        self.dims = dims
        self.floats = floats
        self.ints = ints
    }

    init(ints values: [Int64], dims: [Int]? = nil) {
        self.init(dims: dims ?? [values.count], floats: values.map { Float($0) }, ints: values)
    }

    var count: Int { floats.count }
    var isScalar: Bool { floats.count == 1 }

    /// The integer values (exact for integer tensors, else the floats rounded toward zero).
    var integers: [Int64] {
        ints ?? floats.map { $0.isFinite ? Int64(exactly: $0.rounded(.towardZero)) ?? 0 : 0 }
    }
}

/// ONNX TensorProto element types (onnx.proto's DataType).
enum ONNXDataType: Int32 {
    case float = 1, uint8 = 2, int8 = 3, uint16 = 4, int16 = 5, int32 = 6, int64 = 7, string = 8, bool = 9
    case float16 = 10, double = 11, uint32 = 12, uint64 = 13, bfloat16 = 16

    var byteSize: Int {
        switch self {
        case .uint8, .int8, .bool: return 1
        case .uint16, .int16, .float16, .bfloat16: return 2
        case .float, .int32, .uint32: return 4
        case .int64, .double, .uint64: return 8
        case .string: return 0
        }
    }

    var isInteger: Bool {
        switch self {
        case .float, .float16, .double, .bfloat16, .string: return false
        default: return true
        }
    }
}

/// Decodes tensors' data, inline or in external files beside the model, within a byte budget for everything decoded.
struct ONNXTensorDecoder {
    /// The folder of the model file: external data locations are relative to it.
    let directory: String
    var budget: Int
    private var files: [String: [UInt8]] = [:]

    init(directory: String, budget: Int) {
        self.directory = directory
        self.budget = budget
    }

    mutating func decode(_ t: ONNXTensorProto, in model: ONNXModel) throws -> ONNXConstant {
        var c = try values(t, in: model)
        c.elementType = ONNXDataType(rawValue: t.dataType)
        return c
    }

    private mutating func values(_ t: ONNXTensorProto, in model: ONNXModel) throws -> ONNXConstant {
        let what = "ONNX tensor '\(t.name)'"
        guard let type = ONNXDataType(rawValue: t.dataType), type != .string else {
            throw MLRCError.format("\(what) has data type \(t.dataType), which mlrc does not read")
        }
        var count = 1
        for d in t.dims {
            guard d >= 0, d <= Int64(Int32.max) else { throw MLRCError.format("\(what) has dimension \(d)") }
            let (c, overflow) = count.multipliedReportingOverflow(by: Int(d))
            guard !overflow, c <= 1 << 34 else { throw MLRCError.format("\(what) of shape \(t.dims) is too large") }
            count = c
        }
        guard count * 4 <= budget else {
            throw MLRCError(
                .memory, "\(what) of shape \(t.dims) does not fit the tensor memory limit (--max-tensor-memory)")
        }
        budget -= count * 4
        let dims = t.dims.map { Int($0) }
        let exact = type.isInteger && count <= ONNXConstant.exactLimit

        // Raw little-endian bytes: inline, or in an external file.
        var rawBytes: [UInt8]?
        var rawRange: Range<Int>?
        if t.isExternal {
            let (file, range) = try external(t, bytes: count * type.byteSize)
            rawBytes = file
            rawRange = range
        } else if let r = t.raw {
            rawBytes = model.bytes
            rawRange = r
        }
        if let bytes = rawBytes, let r = rawRange {
            guard r.count == count * type.byteSize else {
                throw MLRCError.format("\(what): \(r.count) data bytes for \(count) values of \(type)")
            }
            var floats = [Float](repeating: 0, count: count)
            var ints: [Int64]? = exact ? [Int64](repeating: 0, count: count) : nil
            bytes.withUnsafeBytes { all in
                let p = UnsafeRawBufferPointer(rebasing: all[r])
                for i in 0..<count {
                    let v = Self.load(p, i, type)
                    floats[i] = v.float
                    if exact { ints![i] = v.int }
                }
            }
            return ONNXConstant(dims: dims, floats: floats, ints: ints)
        }
        // Typed fields.
        switch type {
        case .float:
            guard t.floatData.count == count else { throw mismatch(what, t.floatData.count, count) }
            return ONNXConstant(dims: dims, floats: t.floatData)
        case .double:
            guard t.doubleData.count == count else { throw mismatch(what, t.doubleData.count, count) }
            return ONNXConstant(dims: dims, floats: t.doubleData.map { Float($0) })
        case .int64, .uint32, .uint64:
            guard t.int64Data.count == count else { throw mismatch(what, t.int64Data.count, count) }
            return ONNXConstant(dims: dims, floats: t.int64Data.map { Float($0) }, ints: exact ? t.int64Data : nil)
        case .float16, .bfloat16:
            guard t.int32Data.count == count else { throw mismatch(what, t.int32Data.count, count) }
            let floats = t.int32Data.map { bits -> Float in
                let b = UInt16(truncatingIfNeeded: bits)
                return type == .float16 ? Float(Float16(bitPattern: b)) : Float(bitPattern: UInt32(b) << 16)
            }
            return ONNXConstant(dims: dims, floats: floats)
        default:  // int32, int16, int8, uint8, uint16, bool: one value per int32_data entry
            guard t.int32Data.count == count else { throw mismatch(what, t.int32Data.count, count) }
            let values = t.int32Data.map { v -> Int64 in
                switch type {
                case .int8: return Int64(Int8(truncatingIfNeeded: v))
                case .uint8: return Int64(UInt8(truncatingIfNeeded: v))
                case .int16: return Int64(Int16(truncatingIfNeeded: v))
                case .uint16: return Int64(UInt16(truncatingIfNeeded: v))
                case .bool: return v != 0 ? 1 : 0
                default: return Int64(Int32(truncatingIfNeeded: v))
                }
            }
            return ONNXConstant(dims: dims, floats: values.map { Float($0) }, ints: exact ? values : nil)
        }
    }

    private func mismatch(_ what: String, _ have: Int, _ want: Int) -> MLRCError {
        MLRCError.format("\(what) holds \(have) values for a shape of \(want)")
    }

    private static func load(_ p: UnsafeRawBufferPointer, _ i: Int, _ type: ONNXDataType) -> (float: Float, int: Int64)
    {
        let o = i * type.byteSize
        switch type {
        case .float: return (Float(bitPattern: p.loadUnaligned(fromByteOffset: o, as: UInt32.self)), 0)
        case .double: return (Float(Double(bitPattern: p.loadUnaligned(fromByteOffset: o, as: UInt64.self))), 0)
        case .float16: return (Float(Float16(bitPattern: p.loadUnaligned(fromByteOffset: o, as: UInt16.self))), 0)
        case .bfloat16:
            return (Float(bitPattern: UInt32(p.loadUnaligned(fromByteOffset: o, as: UInt16.self)) << 16), 0)
        case .int8: let v = Int64(p.load(fromByteOffset: o, as: Int8.self)); return (Float(v), v)
        case .uint8, .bool: let v = Int64(p.load(fromByteOffset: o, as: UInt8.self)); return (Float(v), v)
        case .int16: let v = Int64(p.loadUnaligned(fromByteOffset: o, as: Int16.self)); return (Float(v), v)
        case .uint16: let v = Int64(p.loadUnaligned(fromByteOffset: o, as: UInt16.self)); return (Float(v), v)
        case .int32: let v = Int64(p.loadUnaligned(fromByteOffset: o, as: Int32.self)); return (Float(v), v)
        case .uint32: let v = Int64(p.loadUnaligned(fromByteOffset: o, as: UInt32.self)); return (Float(v), v)
        case .int64, .uint64: let v = p.loadUnaligned(fromByteOffset: o, as: Int64.self); return (Float(v), v)
        case .string: return (0, 0)
        }
    }

    /// The file and byte range of an external tensor. Locations must name a file inside the model's folder.
    private mutating func external(_ t: ONNXTensorProto, bytes wanted: Int) throws -> ([UInt8], Range<Int>) {
        let what = "ONNX tensor '\(t.name)'"
        guard let location = t.external["location"], !location.isEmpty else {
            throw MLRCError.format("\(what) is stored externally but names no location")
        }
        let parts = location.split(separator: "/", omittingEmptySubsequences: false)
        guard !location.hasPrefix("/"), !parts.contains(".."), !location.contains("\0") else {
            throw MLRCError.format("\(what): external data location '\(location)' is outside the model's folder")
        }
        func number(_ key: String) throws -> Int? {
            guard let s = t.external[key] else { return nil }
            guard let v = Int(s), v >= 0 else { throw MLRCError.format("\(what): external \(key) '\(s)'") }
            return v
        }
        let offset = try number("offset") ?? 0
        if files[location] == nil {
            let path = directory.isEmpty ? location : "\(directory)/\(location)"
            do {
                files[location] = try FileBytes.read(path, limit: 1 << 36)
            } catch let e as MLRCError {
                throw MLRCError(.io, "\(what) is stored in \(path), which cannot be read: \(e.message)")
            }
        }
        let file = files[location]!
        let length = try number("length") ?? (file.count - min(offset, file.count))
        guard length == wanted, offset <= file.count, length <= file.count - offset else {
            throw MLRCError.format(
                "\(what): external data \(location) at offset \(offset), \(length) bytes, does not fit the file "
                    + "(\(file.count) bytes) or the tensor (\(wanted) bytes)")
        }
        return (file, offset..<(offset + length))
    }
}
