import MLRCRuntime

/// Reads a PyTorch checkpoint written by torch.save: the zip format (PyTorch >= 1.6) or the legacy
/// format (a sequence of pickles followed by raw storages). Returns the unpickled object with tensors
/// resolved to host memory.
public enum TorchCheckpoint {
    /// The legacy format's first pickle: the integer 0x1950a86a20f9469cfc6c, little-endian.
    static let legacyMagic: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]

    public static func load(_ bytes: [UInt8]) throws -> Checkpoint {
        if ZipArchive.isZip(bytes) { return try loadZip(bytes) }
        if bytes.first == 0x80 { return try loadLegacy(bytes) }
        throw MLRCError.format(
            "not a PyTorch checkpoint (neither a zip archive nor a pickle), a safetensors file or an ONNX model")
    }

    /// ('storage', StorageType, key, location, numel[, view]) -> StorageRef.
    static func storageRef(_ pid: PickleValue) throws -> StorageRef {
        guard let t = pid.items, t.count >= 5, t[0].string == "storage" else {
            throw MLRCError.format("checkpoint: unknown persistent id")
        }
        guard case .global(_, let typeName) = t[1], let type = ScalarType(storageName: typeName) else {
            throw MLRCError.format("checkpoint: unsupported storage type")
        }
        let key: String
        if let s = t[2].string {
            key = s
        } else if let i = t[2].int {
            key = String(i)
        } else {
            throw MLRCError.format("checkpoint: bad storage key")
        }
        var ref = StorageRef(key: key, type: type, viewOf: nil)
        // Legacy views: (view_key, offset, size) into the root storage `key`.
        if t.count >= 6, let view = t[5].items, view.count >= 2, let vkey = view[0].string, let off = view[1].int {
            ref = StorageRef(key: vkey, type: type, viewOf: (key, off))
        }
        return ref
    }

    static func loadZip(_ bytes: [UInt8]) throws -> Checkpoint {
        let zip = try ZipArchive(bytes)
        guard let pkl = zip.entries.values.first(where: { $0.name == "data.pkl" || $0.name.hasSuffix("/data.pkl") })
        else {
            throw MLRCError.format("checkpoint: zip archive has no data.pkl (not written by torch.save?)")
        }
        let prefix = String(pkl.name.dropLast("data.pkl".count))
        if let order = zip.entries[prefix + "byteorder"] {
            let text = String(decoding: bytes[order.dataOffset..<(order.dataOffset + order.size)], as: UTF8.self)
            guard text.hasPrefix("little") else {
                throw MLRCError.format("checkpoint: big-endian storages are not supported")
            }
        }
        var unpickler = Unpickler(bytes: Array(bytes[pkl.dataOffset..<(pkl.dataOffset + pkl.size)])) { pid in
            .storage(try storageRef(pid))
        }
        let root = try unpickler.load()
        return Checkpoint(root: root, arena: unpickler.arena, bytes: bytes) { ref in
            guard let e = zip.entries[prefix + "data/" + ref.key] else {
                throw MLRCError.format("checkpoint: storage \(ref.key) missing from the archive")
            }
            return (e.dataOffset, e.size)
        }
    }

    static func loadLegacy(_ bytes: [UInt8]) throws -> Checkpoint {
        var p = Unpickler(bytes: bytes) { _ in throw MLRCError.format("checkpoint: unexpected persistent id in header")
        }
        let magic = try p.load()
        guard case .bytes(let m) = magic, m == legacyMagic else {
            throw MLRCError.format("checkpoint: not a PyTorch legacy checkpoint (bad magic number)")
        }
        var next = Unpickler(bytes: bytes, start: p.position) { _ in throw MLRCError.format("checkpoint: bad header") }
        _ = try next.load()  // protocol version
        var sys = Unpickler(bytes: bytes, start: next.position) { _ in throw MLRCError.format("checkpoint: bad header")
        }
        _ = try sys.load()  // sys_info
        var roots: [String: StorageRef] = [:]
        var main = Unpickler(bytes: bytes, start: sys.position) { pid in
            let ref = try storageRef(pid)
            roots[ref.viewOf?.key ?? ref.key] = StorageRef(key: ref.viewOf?.key ?? ref.key, type: ref.type, viewOf: nil)
            return .storage(ref)
        }
        let root = try main.load()
        var keysPickle = Unpickler(bytes: bytes, start: main.position) { _ in
            throw MLRCError.format("checkpoint: bad key list")
        }
        guard let keys = try keysPickle.load().items?.compactMap(\.string) else {
            throw MLRCError.format("checkpoint: bad storage key list")
        }
        // Each storage: an 8-byte little-endian element count, then the elements.
        var located: [String: (Int, Int)] = [:]
        var o = keysPickle.position
        for key in keys {
            guard let ref = roots[key] else { throw MLRCError.format("checkpoint: storage \(key) is not referenced") }
            guard o + 8 <= bytes.count else { throw MLRCError.format("checkpoint: truncated storage \(key)") }
            var n: UInt64 = 0
            for i in 0..<8 { n |= UInt64(bytes[o + i]) << (8 * UInt64(i)) }
            o += 8
            let size = try checkedMul(Int(clamping: n), ref.type.byteSize, "checkpoint: storage \(key)")
            guard size <= bytes.count - o else {
                throw MLRCError.format("checkpoint: truncated storage \(key)")
            }
            located[key] = (o, size)
            o += size
        }
        return Checkpoint(
            root: root, arena: main.arena, bytes: bytes,
            locate: { ref in
                let rootKey = ref.viewOf?.key ?? ref.key
                guard let (offset, size) = located[rootKey] else {
                    throw MLRCError.format("checkpoint: storage \(rootKey) missing")
                }
                guard let view = ref.viewOf else { return (offset, size) }
                guard view.offset >= 0 else {
                    throw MLRCError.format("checkpoint: view of \(rootKey) at a negative offset")
                }
                let skip = try checkedMul(view.offset, ref.type.byteSize, "checkpoint: view of \(rootKey)")
                guard skip <= size else {
                    throw MLRCError.format("checkpoint: storage view out of range")
                }
                return (offset + skip, size - skip)
            })
    }

}
