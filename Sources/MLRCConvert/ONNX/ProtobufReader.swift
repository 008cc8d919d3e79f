import MLRCRuntime

/// The protobuf wire format over a byte range of an untrusted file: every length and offset is checked against the
/// range before it is used, and a message is read field by field without recursion (ONNX's message readers nest a
/// fixed number of levels and skip every field they do not know, graphs inside attributes included).
struct ProtobufReader {
    enum WireType: UInt8 { case varint = 0, fixed64 = 1, lengthDelimited = 2, fixed32 = 5 }

    let bytes: [UInt8]
    private(set) var position: Int
    let end: Int

    /// A reader of `bytes[range]`; the range must lie within the bytes.
    init(_ bytes: [UInt8], range: Range<Int>? = nil) {
        self.bytes = bytes
        let r = range ?? 0..<bytes.count
        position = r.lowerBound
        end = r.upperBound
    }

    var atEnd: Bool { position >= end }

    private func truncated(_ what: String) -> MLRCError {
        MLRCError.format("ONNX file truncated or corrupt: \(what) at byte \(position) runs past its message")
    }

    mutating func varint() throws -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else { throw truncated("a varint") }
            let b = bytes[position]
            position += 1
            guard shift < 64 else { throw MLRCError.format("ONNX file corrupt: a varint longer than 10 bytes") }
            value |= UInt64(b & 0x7f) << shift
            if b & 0x80 == 0 { return value }
            shift += 7
        }
    }

    /// The next field's number and wire type, or nil at the end of the message.
    mutating func field() throws -> (number: UInt64, type: WireType)? {
        guard !atEnd else { return nil }
        let key = try varint()
        let number = key >> 3
        guard number >= 1, let type = WireType(rawValue: UInt8(key & 7)) else {
            throw MLRCError.format(
                "ONNX file corrupt: field key \(key) at byte \(position) (groups are not used by ONNX)")
        }
        return (number, type)
    }

    mutating func fixed32() throws -> UInt32 {
        guard end - position >= 4 else { throw truncated("a 32-bit value") }
        var v: UInt32 = 0
        for i in 0..<4 { v |= UInt32(bytes[position + i]) << (8 * UInt32(i)) }
        position += 4
        return v
    }

    mutating func fixed64() throws -> UInt64 {
        guard end - position >= 8 else { throw truncated("a 64-bit value") }
        var v: UInt64 = 0
        for i in 0..<8 { v |= UInt64(bytes[position + i]) << (8 * UInt64(i)) }
        position += 8
        return v
    }

    /// A length-delimited field's byte range (a sub-message, string or packed array), skipped over.
    mutating func lengthDelimited() throws -> Range<Int> {
        let n = try varint()
        guard n <= UInt64(end - position) else { throw truncated("a field of \(n) bytes") }
        let r = position..<(position + Int(n))
        position = r.upperBound
        return r
    }

    mutating func string() throws -> String {
        String(decoding: bytes[try lengthDelimited()], as: UTF8.self)
    }

    mutating func int64() throws -> Int64 { Int64(bitPattern: try varint()) }

    /// An int32 field (negative values are sign-extended to 10 bytes on the wire).
    mutating func int32() throws -> Int32 { Int32(truncatingIfNeeded: Int64(bitPattern: try varint())) }

    mutating func float() throws -> Float { Float(bitPattern: try fixed32()) }

    /// Skips a field of the given type.
    mutating func skip(_ type: WireType) throws {
        switch type {
        case .varint: _ = try varint()
        case .fixed64: _ = try fixed64()
        case .fixed32: _ = try fixed32()
        case .lengthDelimited: _ = try lengthDelimited()
        }
    }

    /// Appends a repeated varint field, packed or not, to `out`, holding at most `limit` values in all.
    mutating func repeatedVarint(_ type: WireType, into out: inout [Int64], limit: Int) throws {
        if type == .varint {
            guard out.count < limit else { throw MLRCError.format("ONNX file: more than \(limit) integers in a field") }
            out.append(try int64())
            return
        }
        guard type == .lengthDelimited else {
            throw MLRCError.format("ONNX file corrupt: integer list of wire type \(type)")
        }
        var packed = ProtobufReader(bytes, range: try lengthDelimited())
        while !packed.atEnd {
            guard out.count < limit else { throw MLRCError.format("ONNX file: more than \(limit) integers in a field") }
            out.append(try packed.int64())
        }
    }

    /// Appends a repeated float field, packed or not.
    mutating func repeatedFloat(_ type: WireType, into out: inout [Float], limit: Int) throws {
        if type == .fixed32 {
            guard out.count < limit else { throw MLRCError.format("ONNX file: more than \(limit) floats in a field") }
            out.append(try float())
            return
        }
        guard type == .lengthDelimited else {
            throw MLRCError.format("ONNX file corrupt: float list of wire type \(type)")
        }
        let r = try lengthDelimited()
        guard r.count % 4 == 0 else { throw MLRCError.format("ONNX file corrupt: packed floats of \(r.count) bytes") }
        guard out.count + r.count / 4 <= limit else {
            throw MLRCError.format("ONNX file: more than \(limit) floats in a field")
        }
        var packed = ProtobufReader(bytes, range: r)
        out.reserveCapacity(out.count + r.count / 4)
        while !packed.atEnd { out.append(try packed.float()) }
    }

    /// Appends a repeated double field, packed or not.
    mutating func repeatedDouble(_ type: WireType, into out: inout [Double], limit: Int) throws {
        if type == .fixed64 {
            guard out.count < limit else { throw MLRCError.format("ONNX file: more than \(limit) doubles in a field") }
            out.append(Double(bitPattern: try fixed64()))
            return
        }
        guard type == .lengthDelimited else {
            throw MLRCError.format("ONNX file corrupt: double list of wire type \(type)")
        }
        let r = try lengthDelimited()
        guard r.count % 8 == 0, out.count + r.count / 8 <= limit else {
            throw MLRCError.format("ONNX file corrupt: packed doubles of \(r.count) bytes")
        }
        var packed = ProtobufReader(bytes, range: r)
        while !packed.atEnd { out.append(Double(bitPattern: try packed.fixed64())) }
    }

    /// Checks that a field has the wire type its schema gives it.
    static func expect(_ type: WireType, _ wanted: WireType, _ what: String) throws {
        guard type == wanted else { throw MLRCError.format("ONNX file corrupt: \(what) has wire type \(type)") }
    }
}
