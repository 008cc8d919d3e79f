import CMLRCKernels

/// Parses and checks a whole `.mlrc` file held in memory: header, checksum, sections, tables.
public enum ModelFileReader {
    /// Only the fuzzer turns this off, to reach the structural checks behind the checksum.
    nonisolated(unsafe) public static var verifyChecksum = true

    public static func read(_ bytes: UnsafeRawBufferPointer) throws -> ModelDescription {
        var r = ByteReader(bytes, context: "model header")
        guard bytes.count >= ModelFormat.headerSize else { throw MLRCError.format("not an mlrc model: file too short") }
        for b in ModelFormat.magic where try r.u8() != b {
            throw MLRCError.format("not an mlrc model: bad magic")
        }
        let major = try r.u16()
        let minor = try r.u16()
        guard major == ModelFormat.majorVersion else {
            throw MLRCError(
                .version,
                "model format version \(major).\(minor) is not readable by this library (reads \(ModelFormat.majorVersion).x)"
            )
        }
        let headerSize = Int(try r.u32())
        let fileSize = try r.offset("file size")
        guard headerSize == ModelFormat.headerSize else { throw MLRCError.format("model header: size \(headerSize)") }
        guard fileSize == bytes.count else {
            throw MLRCError.format(
                "model file truncated or padded: header says \(fileSize) bytes, found \(bytes.count)")
        }
        let storedCRC = try r.u32()
        guard !verifyChecksum || storedCRC == checksum(bytes) else {
            throw MLRCError.format("model checksum mismatch: the file is corrupt")
        }
        let sectionCount = try r.count(max: ModelFormat.maxSections, "section count")
        let tableOffset = try r.offset("section table offset")

        var sections: [UInt32: UnsafeRawBufferPointer] = [:]
        var sectionOffsets: [UInt32: Int] = [:]
        var t = ByteReader(bytes, context: "section table")
        try t.skip(tableOffset)
        for _ in 0..<sectionCount {
            let tag = try t.u32()
            _ = try t.u32()  // flags, reserved
            let offset = try t.offset("section offset")
            let size = try t.offset("section size")
            guard offset >= ModelFormat.headerSize, size <= bytes.count, offset <= bytes.count - size else {
                throw MLRCError.format("section \(tag) lies outside the file")
            }
            sections[tag] = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + size)])
            sectionOffsets[tag] = offset
        }
        func section(_ tag: ModelFormat.Tag) throws -> ByteReader {
            guard let s = sections[tag.rawValue] else { throw MLRCError.format("model lacks its \(tag) section") }
            return ByteReader(s, context: "\(tag) section")
        }

        var info = try section(.info)
        let architecture = try info.string(max: 256)
        let c = Int(try info.u32()), h = Int(try info.u32()), w = Int(try info.u32())
        let resize = Int(try info.u32()), cropH = Int(try info.u32()), cropW = Int(try info.u32())
        let mean = [try info.f32(), try info.f32(), try info.f32()]
        let std = [try info.f32(), try info.f32(), try info.f32()]
        // The crop must fit the resized photo whatever its aspect ratio: the shorter side becomes `resize`.
        guard c == 3, cropH == h, cropW == w, resize >= max(h, w), resize <= 8192,
            std.allSatisfy({ $0 > 0 && $0.isFinite }),
            mean.allSatisfy({ $0.isFinite })
        else { throw MLRCError.format("INFO section: preprocessing fields inconsistent") }
        let inputShape = Shape(height: h, width: w, channels: c)
        var preprocessing = Preprocessing(
            resizeShorterSide: resize, cropHeight: cropH, cropWidth: cropW, mean: mean, std: std)
        if sections[ModelFormat.Tag.preprocessing.rawValue] != nil {
            var prep = try section(.preprocessing)
            guard let interpolation = Preprocessing.Interpolation(rawValue: try prep.u32()) else {
                throw MLRCError.format("PREP section: unknown interpolation")
            }
            let crop = try prep.u32()
            guard crop <= 1 else { throw MLRCError.format("PREP section: unknown resize mode \(crop)") }
            preprocessing.interpolation = interpolation
            preprocessing.centerCrop = crop == 1
        }

        var lab = try section(.labels)
        let labelCount = try lab.count(max: ModelFormat.maxLabels, "label count")
        var labels: [String] = []
        labels.reserveCapacity(min(labelCount, lab.remaining / 4))  // a hostile count must not allocate
        for _ in 0..<labelCount { labels.append(try lab.string(max: 4096)) }

        guard let dataOffset = sectionOffsets[ModelFormat.Tag.data.rawValue],
            let data = sections[ModelFormat.Tag.data.rawValue]
        else { throw MLRCError.format("model lacks its data section") }
        var ten = try section(.tensors)
        let tensorCount = try ten.count(max: ModelFormat.maxTensors, "tensor count")
        var tensors: [TensorInfo] = []
        tensors.reserveCapacity(min(tensorCount, ten.remaining / 24))
        for i in 0..<tensorCount {
            guard let dtype = TensorDType(rawValue: try ten.u32()) else {
                throw MLRCError.format("tensor \(i): unknown type")
            }
            let rank = try ten.count(max: ModelFormat.maxRank, "tensor rank")
            var dims: [Int] = []
            for _ in 0..<rank { dims.append(Int(try ten.u32())) }
            let offset = try ten.offset("tensor offset")
            let size = try ten.offset("tensor size")
            let count = try checkedCount(dims, "tensor \(i)")
            guard try checkedMul(count, dtype.byteSize, "tensor \(i)") == size else {
                throw MLRCError.format("tensor \(i): size \(size) does not match its shape \(dims)")
            }
            guard offset % ModelFormat.tensorAlignment == 0, offset >= dataOffset, size <= data.count,
                offset - dataOffset <= data.count - size
            else { throw MLRCError.format("tensor \(i): data outside the data section or misaligned") }
            tensors.append(TensorInfo(dtype: dtype, dims: dims, offset: offset, byteSize: size))
        }

        var g = try section(.graph)
        let nodeCount = try g.count(max: ModelFormat.maxNodes, "node count")
        let outputValue = Int(try g.u32())
        var nodes: [Node] = []
        nodes.reserveCapacity(min(nodeCount, g.remaining / 20))
        for i in 0..<nodeCount {
            let raw = try g.u32()
            guard let op = OpKind(rawValue: raw) else {
                throw MLRCError(.version, "graph node \(i): operation \(raw) is unknown to this library version")
            }
            var inputs: [Int] = [], weights: [Int] = [], ints: [Int32] = [], floats: [Float] = []
            for _ in 0..<(try g.count(max: 64, "input count")) { inputs.append(Int(try g.u32())) }
            for _ in 0..<(try g.count(max: 16, "weight count")) { weights.append(Int(try g.u32())) }
            for _ in 0..<(try g.count(max: 64, "int field count")) { ints.append(try g.i32()) }
            for _ in 0..<(try g.count(max: 64, "float field count")) { floats.append(try g.f32()) }
            nodes.append(Node(op: op, inputs: inputs, weights: weights, ints: ints, floats: floats))
        }
        return ModelDescription(
            architecture: architecture, inputShape: inputShape, preprocessing: preprocessing,
            labels: labels, tensors: tensors, nodes: nodes, outputValue: outputValue)
    }

    /// CRC-32C of the file with its own 4-byte checksum field read as zeros.
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count >= ModelFormat.crcOffset + 4 else { return 0 }
        var zero: UInt32 = 0
        var crc = mlrc_crc32c(0, base, ModelFormat.crcOffset)
        crc = mlrc_crc32c(crc, &zero, 4)
        let rest = ModelFormat.crcOffset + 4
        return mlrc_crc32c(crc, base + rest, bytes.count - rest)
    }
}
