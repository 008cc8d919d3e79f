import MLRCRuntime

/// Reads a safetensors file: an 8-byte header length, a JSON header naming each tensor's dtype, shape
/// and byte range, then the data.
public enum Safetensors {
    public static func looksLike(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 10 else { return false }
        var n: UInt64 = 0
        for i in 0..<8 { n |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        return n > 1 && n <= UInt64(bytes.count - 8) && bytes[8] == UInt8(ascii: "{")
    }

    public static func load(_ bytes: [UInt8]) throws -> [String: HostTensor] {
        var budget = StateDict.TensorBudget(limit: Int.max, absolute: Int.max)
        return try load(bytes, budget: &budget)
    }

    static func load(_ bytes: [UInt8], budget: inout StateDict.TensorBudget) throws -> [String: HostTensor] {
        guard looksLike(bytes) else { throw MLRCError.format("not a safetensors file") }
        var n = 0
        for i in 0..<8 { n |= Int(bytes[i]) << (8 * i) }
        guard n <= 100 << 20 else { throw MLRCError.format("safetensors: header too large") }
        guard case .object(let entries) = try JSON.parse(bytes[8..<(8 + n)]) else {
            throw MLRCError.format("safetensors: header is not an object")
        }
        let base = 8 + n
        var tensors: [String: HostTensor] = [:]
        try bytes.withUnsafeBytes { raw in
            for (name, info) in entries where name != "__metadata__" {
                guard case .string(let dt)? = info["dtype"], let type = ScalarType(storageName: dt),
                    case .array(let shapeJSON)? = info["shape"], case .array(let range)? = info["data_offsets"],
                    range.count == 2, case .number(let begin) = range[0], case .number(let end) = range[1],
                    begin >= 0, end >= begin, end <= Double(bytes.count - base)
                else { throw MLRCError.format("safetensors: bad entry for \(name)") }
                var shape: [Int] = []
                for d in shapeJSON {
                    guard case .number(let v) = d, v >= 0, v < Double(1 << 31) else {
                        throw MLRCError.format("safetensors: bad shape for \(name)")
                    }
                    shape.append(Int(v))
                }
                var stride = [Int](repeating: 1, count: shape.count)
                for k in stride.indices.reversed().dropFirst() {
                    stride[k] = try checkedMul(stride[k + 1], max(shape[k + 1], 1), "safetensors: \(name)")
                }
                let storage = UnsafeRawBufferPointer(rebasing: raw[(base + Int(begin))..<(base + Int(end))])
                let count = try checkedCount(shape, "safetensors: \(name)")
                try budget.take(count, name: name)
                guard try checkedMul(count, type.byteSize, "safetensors: \(name)") == storage.count else {
                    throw MLRCError.format("safetensors: \(name) byte range does not match its shape")
                }
                tensors[name] = try materialize(
                    storage: storage, type: type, offset: 0, shape: shape, stride: stride, name: name)
            }
        }
        return tensors
    }
}
