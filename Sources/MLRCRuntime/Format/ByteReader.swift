/// A bounds-checked little-endian cursor over bytes: every read is validated, so a truncated or hostile
/// file throws a format error instead of reading out of range.
public struct ByteReader {
    public let bytes: UnsafeRawBufferPointer
    public private(set) var position: Int
    let context: String

    public init(_ bytes: UnsafeRawBufferPointer, position: Int = 0, context: String) {
        self.bytes = bytes
        self.position = position
        self.context = context
    }

    public var remaining: Int { bytes.count - position }

    mutating func need(_ n: Int) throws {
        if n < 0 || n > remaining {
            throw MLRCError.format("\(context): truncated (needs \(n) bytes at offset \(position))")
        }
    }

    public mutating func u8() throws -> UInt8 {
        try need(1)
        defer { position += 1 }
        return bytes[position]
    }

    public mutating func u16() throws -> UInt16 {
        try need(2)
        defer { position += 2 }
        return UInt16(bytes[position]) | UInt16(bytes[position + 1]) << 8
    }

    public mutating func u32() throws -> UInt32 {
        try need(4)
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(bytes[position + i]) << (8 * UInt32(i)) }
        position += 4
        return v
    }

    public mutating func u64() throws -> UInt64 {
        try need(8)
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(bytes[position + i]) << (8 * UInt64(i)) }
        position += 8
        return v
    }

    public mutating func i32() throws -> Int32 { Int32(bitPattern: try u32()) }
    public mutating func f32() throws -> Float { Float(bitPattern: try u32()) }

    /// A u32 that must lie in 0...limit, as an Int.
    public mutating func count(max limit: Int, _ what: String) throws -> Int {
        let v = Int(try u32())
        if v > limit { throw MLRCError.format("\(context): \(what) \(v) exceeds the limit \(limit)") }
        return v
    }

    /// A u64 offset or size that must fit in Int.
    public mutating func offset(_ what: String) throws -> Int {
        let v = try u64()
        guard v <= UInt64(Int.max) else { throw MLRCError.format("\(context): \(what) out of range") }
        return Int(v)
    }

    /// A u32 length followed by that many UTF-8 bytes.
    public mutating func string(max limit: Int = 1 << 16) throws -> String {
        let n = try count(max: limit, "string length")
        try need(n)
        let s = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[position..<(position + n)]), as: UTF8.self)
        position += n
        return s
    }

    public mutating func skip(_ n: Int) throws {
        try need(n)
        position += n
    }
}
