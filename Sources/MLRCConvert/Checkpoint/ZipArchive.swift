import MLRCRuntime

/// A reader for the uncompressed ("stored") zip archives torch.save writes. Entries are located through
/// the central directory and bounds-checked; names are only compared, never used as paths.
public struct ZipArchive {
    public struct Entry {
        public var name: String
        public var dataOffset: Int
        public var size: Int
    }

    public let entries: [String: Entry]
    static let maxEntries = 1 << 20

    public static func isZip(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 4 && bytes[0] == 0x50 && bytes[1] == 0x4B && bytes[2] == 0x03 && bytes[3] == 0x04
    }

    public init(_ bytes: [UInt8]) throws {
        func u16(_ o: Int) throws -> Int {
            guard o >= 0, o + 2 <= bytes.count else { throw MLRCError.format("zip: truncated") }
            return Int(bytes[o]) | Int(bytes[o + 1]) << 8
        }
        func u32(_ o: Int) throws -> Int { try u16(o) | (u16(o + 2) << 16) }
        func u64(_ o: Int) throws -> Int {
            let lo = try u32(o), hi = try u32(o + 4)
            guard hi < 1 << 30 else { throw MLRCError.format("zip: offset out of range") }
            return lo | hi << 32
        }
        // End of central directory: the last 22+ bytes, before an optional comment of up to 64 KiB.
        var eocd = -1
        var o = bytes.count - 22
        while o >= 0 && o >= bytes.count - 22 - 65_535 {
            if bytes[o] == 0x50 && bytes[o + 1] == 0x4B && bytes[o + 2] == 0x05 && bytes[o + 3] == 0x06 {
                eocd = o; break
            }
            o -= 1
        }
        guard eocd >= 0 else { throw MLRCError.format("zip: no end-of-central-directory record (truncated file?)") }
        var count = try u16(eocd + 10)
        var cdOffset = try u32(eocd + 16)
        // ZIP64: the locator sits just before the classic record and points at the zip64 record.
        if count == 0xFFFF || cdOffset == 0xFFFF_FFFF, eocd >= 20, try u32(eocd - 20) == 0x0706_4B50 {
            let z = try u64(eocd - 20 + 8)
            guard try u32(z) == 0x0606_4B50 else { throw MLRCError.format("zip: bad zip64 record") }
            count = try u64(z + 32)
            cdOffset = try u64(z + 48)
        }
        guard count <= Self.maxEntries else { throw MLRCError.format("zip: too many entries") }
        var entries: [String: Entry] = [:]
        var p = cdOffset
        for _ in 0..<count {
            guard try u32(p) == 0x0201_4B50 else { throw MLRCError.format("zip: bad central directory entry") }
            let method = try u16(p + 10)
            var compressed = try u32(p + 20), size = try u32(p + 24)
            let nameLen = try u16(p + 28), extraLen = try u16(p + 30), commentLen = try u16(p + 32)
            var local = try u32(p + 42)
            guard p + 46 + nameLen <= bytes.count else { throw MLRCError.format("zip: truncated") }
            let name = String(decoding: bytes[(p + 46)..<(p + 46 + nameLen)], as: UTF8.self)
            // zip64 extra field: 64-bit sizes/offset for fields stored as 0xFFFFFFFF, in this order.
            var e = p + 46 + nameLen
            let extraEnd = e + extraLen
            while e + 4 <= extraEnd {
                let id = try u16(e), len = try u16(e + 2)
                if id == 0x0001 {
                    var f = e + 4
                    if size == 0xFFFF_FFFF { size = try u64(f); f += 8 }
                    if compressed == 0xFFFF_FFFF { compressed = try u64(f); f += 8 }
                    if local == 0xFFFF_FFFF { local = try u64(f) }
                }
                e += 4 + len
            }
            guard method == 0 else {
                throw MLRCError.format(
                    "zip: entry \(name) is compressed (method \(method)); torch.save writes stored entries")
            }
            guard compressed == size else { throw MLRCError.format("zip: entry \(name) sizes disagree") }
            guard try u32(local) == 0x0403_4B50 else { throw MLRCError.format("zip: bad local header for \(name)") }
            let dataOffset = try local + 30 + u16(local + 26) + u16(local + 28)
            guard dataOffset <= bytes.count, size <= bytes.count - dataOffset else {
                throw MLRCError.format("zip: entry \(name) extends past the end of the file")
            }
            entries[name] = Entry(name: name, dataOffset: dataOffset, size: size)
            p = extraEnd + commentLen
        }
        self.entries = entries
    }
}
