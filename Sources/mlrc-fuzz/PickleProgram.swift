/// The structure-aware checkpoint fuzzer's input decoding: the fuzzer's bytes are read as a program of pickle
/// instructions (each one well formed: opcode, then arguments of the right size), with names from the vocabulary
/// torch.save writes (rebuild functions, storage types, state_dict keys) and whole storage references and tensor
/// rebuilds as single instructions. The result is packed as a torch.save zip archive with a few storages beside
/// it. Byte mutations rarely get past the first malformed opcode; programs reach the unpickler's container,
/// memo, reduce and tensor paths and the architecture recognition behind them.
enum PickleProgram {
    static let globals: [(String, String)] = [
        ("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_parameter"),
        ("torch._tensor", "_rebuild_from_type_v2"), ("torch", "FloatStorage"), ("torch", "HalfStorage"),
        ("torch", "BFloat16Storage"), ("torch", "DoubleStorage"), ("torch", "LongStorage"), ("torch", "IntStorage"),
        ("collections", "OrderedDict"), ("builtins", "set"), ("torch.nn.parameter", "Parameter"), ("torch", "Size"),
        ("torch._utils", "_rebuild_qtensor"), ("numpy.core.multiarray", "_reconstruct"), ("os", "system"),
        ("builtins", "eval"), ("torch", "Tensor"),
    ]
    static let strings = [
        "storage", "cpu", "0", "1", "2", "3", "state_dict", "model", "model_ema", "_metadata", "version",
        "conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked",
        "layer1.0.conv1.weight", "layer1.0.bn1.weight", "fc.weight", "fc.bias", "features.0.0.weight",
        "features.0.1.weight", "classifier.1.weight", "classifier.1.bias", "stem.0.weight", "stem.1.weight",
        "stages.0.0.dwconv.weight", "stages.0.0.pwconv1.weight", "downsample_layers.0.0.weight", "head.weight",
        "head.bias", "norm.weight", "norm.bias", "_conv_stem.weight", "_fc.weight", "conv_stem.weight",
    ]
    static let storageTypes = [3, 4, 5, 6, 7, 8]  // indices into `globals`

    /// A torch.save-style zip: archive/data.pkl (the program) and archive/data/0...3.
    static func checkpoint(from input: UnsafeRawBufferPointer) -> [UInt8] {
        // The first 8 bytes size the four storages (up to 16 KB each), the rest is the program.
        var program = Program(input)
        var storages: [(String, [UInt8])] = []
        for key in 0..<4 {
            let size = 4 * Int(program.next()) * Int(program.next() % 16 + 1)
            storages.append(("archive/data/\(key)", (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ key) }))
        }
        let pickle = program.assemble()
        return storedZip([("archive/data.pkl", pickle), ("archive/byteorder", Array("little".utf8))] + storages)
    }

    /// Reads instructions until the input or the instruction budget runs out; always ends with STOP.
    struct Program {
        let input: UnsafeRawBufferPointer
        var position = 0
        var out: [UInt8] = [0x80, 0x02]  // PROTO 2

        init(_ input: UnsafeRawBufferPointer) { self.input = input }

        mutating func next() -> UInt8 {
            guard position < input.count else { return 0 }
            defer { position += 1 }
            return input[position]
        }

        mutating func emitInt(_ v: Int) {
            if v >= 0 && v < 256 {
                out += [0x4B, UInt8(v)]  // BININT1
            } else {
                out.append(0x4A)  // BININT
                for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: v >> (8 * i))) }
            }
        }

        mutating func emitString(_ s: String) {
            let bytes = Array(s.utf8)
            out += [0x8C, UInt8(bytes.count)] + bytes  // SHORT_BINUNICODE
        }

        mutating func emitGlobal(_ g: (String, String)) {
            out.append(0x63)  // GLOBAL
            out += Array("\(g.0)\n\(g.1)\n".utf8)
        }

        /// ('storage', torch.XStorage, key, 'cpu', numel) as a persistent id: a storage reference.
        mutating func emitStorage() {
            out.append(0x28)  // MARK
            emitString("storage")
            emitGlobal(globals[storageTypes[Int(next()) % storageTypes.count]])
            emitString(String(next() % 5))  // "4" is absent from the archive
            emitString("cpu")
            emitInt(Int(next()) * 4)
            out += [0x74, 0x51]  // TUPLE, BINPERSID
        }

        /// _rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict()) with fuzzed geometry.
        mutating func emitTensor() {
            emitGlobal(globals[0])
            out.append(0x28)  // MARK
            emitStorage()
            emitInt(Int(next() % 8))
            let rank = Int(next() % 5)
            var dims: [Int] = []
            for _ in 0..<rank { dims.append(Int(next() % 70)) }
            out.append(0x28)
            for d in dims { emitInt(d) }
            out.append(0x74)  // size tuple
            out.append(0x28)
            var stride = 1
            var strides: [Int] = []
            for d in dims.reversed() {
                // Mostly contiguous, sometimes zero or odd strides (overlapping and broadcast views).
                let choice = next() % 8
                strides.insert(choice == 0 ? 0 : choice == 1 ? Int(next()) : stride, at: 0)
                stride *= max(d, 1)
            }
            for s in strides { emitInt(s) }
            out.append(0x74)  // stride tuple
            out.append(0x89)  // NEWFALSE: requires_grad
            emitGlobal(globals[9])
            out += [0x29, 0x52]  // EMPTY_TUPLE, REDUCE: OrderedDict()
            out += [0x74, 0x52]  // TUPLE, REDUCE
        }

        mutating func assemble() -> [UInt8] {
            var instructions = 0
            while position < input.count && instructions < 4096 && out.count < 1 << 20 {
                instructions += 1
                switch next() % 40 {
                case 0: out.append(0x28)  // MARK
                case 1: out.append(0x7D)  // EMPTY_DICT
                case 2: out.append(0x5D)  // EMPTY_LIST
                case 3: out.append(0x29)  // EMPTY_TUPLE
                case 4: out.append(0x74)  // TUPLE
                case 5: out.append(0x85)  // TUPLE1
                case 6: out.append(0x86)  // TUPLE2
                case 7: out.append(0x87)  // TUPLE3
                case 8: out.append(0x73)  // SETITEM
                case 9: out.append(0x75)  // SETITEMS
                case 10: out.append(0x61)  // APPEND
                case 11: out.append(0x65)  // APPENDS
                case 12: out.append(0x64)  // DICT
                case 13: out.append(0x6C)  // LIST
                case 14: emitInt(Int(next()))
                case 15: emitInt(Int(Int32(bitPattern: UInt32(next()) << 24 | UInt32(next()) << 8 | UInt32(next()))))
                case 16:  // LONG1 of up to 9 bytes
                    let n = Int(next() % 10)
                    out += [0x8A, UInt8(n)]
                    for _ in 0..<n { out.append(next()) }
                case 17:
                    out.append(0x47)  // BINFLOAT
                    for _ in 0..<8 { out.append(next()) }
                case 18: out.append(0x4E)  // NONE
                case 19: out.append(next() & 1 == 0 ? 0x88 : 0x89)  // NEWTRUE / NEWFALSE
                case 20, 21, 22: emitString(strings[Int(next()) % strings.count])
                case 23: emitGlobal(globals[Int(next()) % globals.count])
                case 24: out.append(0x52)  // REDUCE
                case 25: out.append(0x62)  // BUILD
                case 26: out.append(0x51)  // BINPERSID
                case 27: emitStorage()
                case 28, 29: emitTensor()
                case 30: out += [0x71, next() % 16]  // BINPUT
                case 31: out += [0x68, next() % 16]  // BINGET
                case 32: out.append(0x94)  // MEMOIZE
                case 33: out.append(0x32)  // DUP
                case 34: out.append(0x30)  // POP
                case 35: out.append(0x31)  // POP_MARK
                case 36: out.append(0x93)  // STACK_GLOBAL
                case 37: out.append(next() & 1 == 0 ? 0x81 : 0x92)  // NEWOBJ / NEWOBJ_EX
                case 38:  // SHORT_BINBYTES
                    let n = Int(next() % 32)
                    out += [0x43, UInt8(n)]
                    for _ in 0..<n { out.append(next()) }
                default: out.append([0x8F, 0x90, 0x91][Int(next()) % 3])  // EMPTY_SET, ADDITEMS, FROZENSET
                }
            }
            out.append(0x2E)  // STOP
            return out
        }
    }

    /// An uncompressed zip archive (local headers, central directory, end record), as torch.save writes. The
    /// reader checks no CRC, so none is computed.
    static func storedZip(_ entries: [(String, [UInt8])]) -> [UInt8] {
        func u16(_ v: Int, _ out: inout [UInt8]) { out += [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF)] }
        func u32(_ v: Int, _ out: inout [UInt8]) {
            u16(v & 0xFFFF, &out)
            u16((v >> 16) & 0xFFFF, &out)
        }
        var out: [UInt8] = []
        var central: [UInt8] = []
        for (name, data) in entries {
            let nameBytes = Array(name.utf8)
            let offset = out.count
            u32(0x0403_4B50, &out)
            for v in [20, 0, 0, 0, 0] { u16(v, &out) }  // version, flags, method, time, date
            for v in [0, data.count, data.count] { u32(v, &out) }  // crc, sizes
            u16(nameBytes.count, &out)
            u16(0, &out)
            out += nameBytes + data
            u32(0x0201_4B50, &central)
            for v in [20, 20, 0, 0, 0, 0] { u16(v, &central) }
            for v in [0, data.count, data.count] { u32(v, &central) }
            for v in [nameBytes.count, 0, 0, 0, 0] { u16(v, &central) }
            u32(0, &central)
            u32(offset, &central)
            central += nameBytes
        }
        let centralOffset = out.count
        out += central
        u32(0x0605_4B50, &out)
        for v in [0, 0, entries.count, entries.count] { u16(v, &out) }
        u32(central.count, &out)
        u32(centralOffset, &out)
        u16(0, &out)
        return out
    }
}
