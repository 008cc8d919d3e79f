import MLRCRuntime

/// Writes a `.mlrc` file (layout in docs/FORMAT.md): header, section table, INFO, LABL, TENS, GRPH,
/// then DATA with every tensor 64-byte aligned, and the CRC-32 of the whole file in the header.
public enum ModelWriter {
    /// An fp32 model: the built network's graph and float tensors as they are.
    public static func serialize(_ net: BuiltNetwork, labels: [String]) throws -> [UInt8] {
        let tensors = net.builder.tensors.map { StoredTensor(dims: $0.shape, storage: .f32($0.data)) }
        return try serialize(
            ModelContents(network: net, nodes: net.builder.nodes, tensors: tensors, output: net.output),
            labels: labels)
    }

    public static func serialize(_ m: ModelContents, labels: [String]) throws -> [UInt8] {
        let net = m.network
        guard labels.count == net.numClasses else {
            throw MLRCError.argument("\(labels.count) labels for \(net.numClasses) classes")
        }
        var info = ByteWriter()
        info.string(net.architecture)
        let input = net.builder.shape(0)
        for v in [
            input.channels, input.height, input.width, net.preprocessing.resizeShorterSide,
            net.preprocessing.cropHeight, net.preprocessing.cropWidth,
        ] { info.u32(UInt32(v)) }
        net.preprocessing.mean.forEach { info.f32($0) }
        net.preprocessing.std.forEach { info.f32($0) }

        var lab = ByteWriter()
        lab.u32(UInt32(labels.count))
        labels.forEach { lab.string($0) }

        var graph = ByteWriter()
        graph.u32(UInt32(m.nodes.count))
        graph.u32(UInt32(m.output))
        for n in m.nodes {
            graph.u32(n.op.rawValue)
            graph.u32(UInt32(n.inputs.count)); n.inputs.forEach { graph.u32(UInt32($0)) }
            graph.u32(UInt32(n.weights.count)); n.weights.forEach { graph.u32(UInt32($0)) }
            graph.u32(UInt32(n.ints.count)); n.ints.forEach { graph.i32($0) }
            graph.u32(UInt32(n.floats.count)); n.floats.forEach { graph.f32($0) }
        }

        var small: [(ModelFormat.Tag, [UInt8])] = [(.info, info.bytes), (.labels, lab.bytes), (.graph, graph.bytes)]
        // PREP only when it says something: a file with the defaults stays readable by 1.2 readers unchanged.
        let pre = net.preprocessing
        if pre.interpolation != .bilinear || !pre.centerCrop {
            var prep = ByteWriter()
            prep.u32(pre.interpolation.rawValue)
            prep.u32(pre.centerCrop ? 1 : 0)
            small.append((.preprocessing, prep.bytes))
        }

        // Lay out: header, section table (the small sections, TENS and DATA), the small sections, then DATA.
        let sectionCount = small.count + 2
        var offset = ModelFormat.headerSize + sectionCount * ModelFormat.sectionEntrySize
        // The tensor table needs data offsets, which need the table's size: its size does not depend on them.
        let tensorTableSize = 4 + m.tensors.reduce(0) { $0 + 4 + 4 + 4 * $1.dims.count + 16 }
        var placed: [(ModelFormat.Tag, Int, Int)] = []
        for (tag, bytes) in small {
            placed.append((tag, offset, bytes.count))
            offset += bytes.count
        }
        placed.append((.tensors, offset, tensorTableSize))
        offset += tensorTableSize
        offset = (offset + 63) / 64 * 64
        let dataStart = offset
        var tensorTable = ByteWriter()
        tensorTable.u32(UInt32(m.tensors.count))
        var dataOffsets: [Int] = []
        for t in m.tensors {
            tensorTable.u32(t.dtype.rawValue)
            tensorTable.u32(UInt32(t.dims.count))
            t.dims.forEach { tensorTable.u32(UInt32($0)) }
            tensorTable.u64(UInt64(offset))
            tensorTable.u64(UInt64(t.byteCount))
            dataOffsets.append(offset)
            offset = (offset + t.byteCount + 63) / 64 * 64
        }
        precondition(tensorTable.bytes.count == tensorTableSize)
        let fileSize = offset
        small.append((.tensors, tensorTable.bytes))
        placed.append((.data, dataStart, fileSize - dataStart))

        var out = ByteWriter()
        out.bytes.reserveCapacity(fileSize)
        out.bytes.append(contentsOf: ModelFormat.magic)
        out.u16(ModelFormat.majorVersion)
        out.u16(ModelFormat.minorVersion)
        out.u32(UInt32(ModelFormat.headerSize))
        out.u64(UInt64(fileSize))
        out.u32(0)  // CRC, filled in last
        out.u32(UInt32(sectionCount))
        out.u64(UInt64(ModelFormat.headerSize))
        out.align(ModelFormat.headerSize)
        for (tag, o, size) in placed {
            out.u32(tag.rawValue)
            out.u32(0)
            out.u64(UInt64(o))
            out.u64(UInt64(size))
        }
        for (_, bytes) in small { out.bytes.append(contentsOf: bytes) }
        out.align(64)
        for (t, o) in zip(m.tensors, dataOffsets) {
            while out.bytes.count < o { out.bytes.append(0) }
            t.append(to: &out)
        }
        while out.bytes.count < fileSize { out.bytes.append(0) }
        let crc = out.bytes.withUnsafeBytes { ModelFileReader.checksum($0) }
        for i in 0..<4 { out.bytes[ModelFormat.crcOffset + i] = UInt8((crc >> (8 * UInt32(i))) & 0xFF) }
        return out.bytes
    }
}

/// What a model file holds besides its labels: the network's metadata, the graph and the stored tensors.
public struct ModelContents {
    public var network: BuiltNetwork
    public var nodes: [Node]
    public var tensors: [StoredTensor]
    public var output: Int
}

/// A tensor as stored in the file: float32 weights, or int8 weights / int32 biases of quantized ops.
public struct StoredTensor {
    public enum Storage {
        case f32([Float])
        case i8([Int8])
        case i32([Int32])
    }

    public var dims: [Int]
    public var storage: Storage

    public var dtype: TensorDType {
        switch storage {
        case .f32: return .float32
        case .i8: return .int8
        case .i32: return .int32
        }
    }

    public var byteCount: Int {
        switch storage {
        case .f32(let v): return v.count * 4
        case .i8(let v): return v.count
        case .i32(let v): return v.count * 4
        }
    }

    func append(to w: inout ByteWriter) {
        switch storage {
        case .f32(let v): v.forEach { w.f32($0) }
        case .i8(let v): w.bytes.append(contentsOf: v.map { UInt8(bitPattern: $0) })
        case .i32(let v): v.forEach { w.i32($0) }
        }
    }
}
