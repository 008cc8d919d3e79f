import MLRCRuntime

/// A dense float tensor in host memory, row-major (PyTorch's contiguous layout).
public struct HostTensor: Sendable, Equatable {
    public var shape: [Int]
    public var data: [Float]

    public init(shape: [Int], data: [Float]) {
        self.shape = shape
        self.data = data
    }

    public var count: Int { data.count }
    public var rank: Int { shape.count }

    public func dim(_ i: Int) -> Int { i < shape.count ? shape[i] : 1 }
}

/// Storage element types found in checkpoints.
public enum ScalarType: Sendable {
    case float32, float16, bfloat16, float64, int64, int32, int16, int8, uint8, bool

    public var byteSize: Int {
        switch self {
        case .float64, .int64: return 8
        case .float32, .int32: return 4
        case .float16, .bfloat16, .int16: return 2
        case .int8, .uint8, .bool: return 1
        }
    }

    /// PyTorch storage class names (torch.FloatStorage...) and safetensors dtype codes.
    public init?(storageName: String) {
        switch storageName {
        case "FloatStorage", "F32": self = .float32
        case "HalfStorage", "F16": self = .float16
        case "BFloat16Storage", "BF16": self = .bfloat16
        case "DoubleStorage", "F64": self = .float64
        case "LongStorage", "I64": self = .int64
        case "IntStorage", "I32": self = .int32
        case "ShortStorage", "I16": self = .int16
        case "CharStorage", "I8": self = .int8
        case "ByteStorage", "U8": self = .uint8
        case "BoolStorage", "BOOL": self = .bool
        default: return nil
        }
    }

    /// Element `i` of little-endian `bytes` as a Float. The caller has checked the range.
    @inline(__always)
    func load(_ bytes: UnsafeRawBufferPointer, _ i: Int) -> Float {
        let o = i * byteSize
        switch self {
        case .float32: return Float(bitPattern: bytes.loadUnaligned(fromByteOffset: o, as: UInt32.self))
        case .float16: return Float(Float16(bitPattern: bytes.loadUnaligned(fromByteOffset: o, as: UInt16.self)))
        case .bfloat16: return Float(bitPattern: UInt32(bytes.loadUnaligned(fromByteOffset: o, as: UInt16.self)) << 16)
        case .float64: return Float(Double(bitPattern: bytes.loadUnaligned(fromByteOffset: o, as: UInt64.self)))
        case .int64: return Float(bytes.loadUnaligned(fromByteOffset: o, as: Int64.self))
        case .int32: return Float(bytes.loadUnaligned(fromByteOffset: o, as: Int32.self))
        case .int16: return Float(bytes.loadUnaligned(fromByteOffset: o, as: Int16.self))
        case .int8: return Float(bytes.loadUnaligned(fromByteOffset: o, as: Int8.self))
        case .uint8, .bool: return Float(bytes[o])
        }
    }
}

/// Copies a strided view of raw storage into a dense HostTensor, checking that every element it
/// reaches lies inside the storage (a hostile checkpoint may lie about sizes, strides or offsets).
func materialize(
    storage: UnsafeRawBufferPointer, type: ScalarType, offset: Int, shape: [Int], stride: [Int],
    name: String
) throws -> HostTensor {
    guard shape.count == stride.count, shape.count <= 8 else {
        throw MLRCError.format("tensor \(name): shape and stride ranks differ")
    }
    let elements = storage.count / type.byteSize
    var count = 1
    var maxIndex = offset
    for (d, s) in zip(shape, stride) {
        guard d >= 0, s >= 0, d <= 1 << 31 else {
            throw MLRCError.format("tensor \(name): bad dimension \(d) or stride \(s)")
        }
        count = try checkedMul(count, d, "tensor \(name)")
        guard count <= 1 << 31 else { throw MLRCError.format("tensor \(name): too many elements") }
        if d > 0 { maxIndex = try checkedAdd(maxIndex, try checkedMul(d - 1, s, "tensor \(name)"), "tensor \(name)") }
    }
    guard offset >= 0, count == 0 || maxIndex < elements else {
        throw MLRCError.format("tensor \(name): view reaches element \(maxIndex) of a storage of \(elements)")
    }
    // A view with more elements than its storage reads some twice (stride 0, overlapping strides): what a state
    // dict never holds, and what would let a small file make quantize materialize gigabytes.
    guard count <= elements else {
        throw MLRCError.format("tensor \(name): a view of \(count) elements overlaps its storage of \(elements)")
    }
    var data = [Float](repeating: 0, count: count)
    if count == 0 { return HostTensor(shape: shape, data: data) }
    var contiguous = true
    var expected = 1
    for (d, s) in zip(shape, stride).reversed() {
        if d != 1 && s != expected { contiguous = false }
        expected *= d
    }
    if contiguous {
        for i in 0..<count { data[i] = type.load(storage, offset + i) }
    } else {
        var index = [Int](repeating: 0, count: shape.count)
        for i in 0..<count {
            var src = offset
            for k in 0..<shape.count { src += index[k] * stride[k] }
            data[i] = type.load(storage, src)
            var k = shape.count - 1
            while k >= 0 {
                index[k] += 1
                if index[k] < shape[k] { break }
                index[k] = 0
                k -= 1
            }
        }
    }
    return HostTensor(shape: shape, data: data)
}
