import MLRCRuntime

/// Writes a `.mlrc` file (layout in docs/FORMAT.md): header, section table, INFO, LABL, TENS, GRPH,
/// then DATA with every tensor 64-byte aligned, and the CRC-32 of the whole file in the header.
public enum ModelWriter {
    public static func serialize(_ net: BuiltNetwork, labels: [String]) throws -> [UInt8] {
        let b = net.builder
        guard labels.count == net.numClasses else {
            throw MLRCError.argument("\(labels.count) labels for \(net.numClasses) classes")
        }
        var info = ByteWriter()
        info.string(net.architecture)
        let input = b.shape(0)
        for v in [input.channels, input.height, input.width, net.preprocessing.resizeShorterSide,
                  net.preprocessing.cropHeight, net.preprocessing.cropWidth] { info.u32(UInt32(v)) }
        net.preprocessing.mean.forEach { info.f32($0) }
        net.preprocessing.std.forEach { info.f32($0) }

        var lab = ByteWriter()
        lab.u32(UInt32(labels.count))
        labels.forEach { lab.string($0) }

        var graph = ByteWriter()
        graph.u32(UInt32(b.nodes.count))
        graph.u32(UInt32(net.output))
        for n in b.nodes {
            graph.u32(n.op.rawValue)
            graph.u32(UInt32(n.inputs.count)); n.inputs.forEach { graph.u32(UInt32($0)) }
            graph.u32(UInt32(n.weights.count)); n.weights.forEach { graph.u32(UInt32($0)) }
            graph.u32(UInt32(n.ints.count)); n.ints.forEach { graph.i32($0) }
            graph.u32(UInt32(n.floats.count)); n.floats.forEach { graph.f32($0) }
        }

        // Lay out: header, section table (5 entries), the small sections, then DATA.
        let sectionCount = 5
        var offset = ModelFormat.headerSize + sectionCount * ModelFormat.sectionEntrySize
        var small: [(ModelFormat.Tag, [UInt8])] = [(.info, info.bytes), (.labels, lab.bytes), (.graph, graph.bytes)]
        // The tensor table needs data offsets, which need the table's size: its size does not depend on them.
        let tensorTableSize = 4 + b.tensors.reduce(0) { $0 + 4 + 4 + 4 * $1.rank + 16 }
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
        tensorTable.u32(UInt32(b.tensors.count))
        var dataOffsets: [Int] = []
        for t in b.tensors {
            tensorTable.u32(TensorDType.float32.rawValue)
            tensorTable.u32(UInt32(t.rank))
            t.shape.forEach { tensorTable.u32(UInt32($0)) }
            tensorTable.u64(UInt64(offset))
            tensorTable.u64(UInt64(t.count * 4))
            dataOffsets.append(offset)
            offset = (offset + t.count * 4 + 63) / 64 * 64
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
        for (t, o) in zip(b.tensors, dataOffsets) {
            while out.bytes.count < o { out.bytes.append(0) }
            for v in t.data { out.f32(v) }
        }
        while out.bytes.count < fileSize { out.bytes.append(0) }
        let crc = out.bytes.withUnsafeBytes { ModelFileReader.checksum($0) }
        for i in 0..<4 { out.bytes[ModelFormat.crcOffset + i] = UInt8((crc >> (8 * UInt32(i))) & 0xFF) }
        return out.bytes
    }
}
