#if canImport(Glibc)
    import Glibc
#endif
import MLRCConvert
import MLRCRuntime
import XCTest

/// Protobuf encoding of the few ONNX messages the hostile-input tests write by hand.
private enum PB {
    static func varint(_ v: UInt64) -> [UInt8] {
        var v = v, out: [UInt8] = []
        repeat {
            out.append(UInt8(v & 0x7f) | (v >= 0x80 ? 0x80 : 0))
            v >>= 7
        } while v != 0
        return out
    }
    static func int(_ field: UInt64, _ v: Int64) -> [UInt8] { varint(field << 3) + varint(UInt64(bitPattern: v)) }
    static func bytes(_ field: UInt64, _ b: [UInt8]) -> [UInt8] { varint(field << 3 | 2) + varint(UInt64(b.count)) + b }
    static func string(_ field: UInt64, _ s: String) -> [UInt8] { bytes(field, Array(s.utf8)) }

    /// ValueInfoProto of a float tensor with fixed dims.
    static func valueInfo(_ name: String, _ dims: [Int64]) -> [UInt8] {
        let shape = dims.flatMap { bytes(1, int(1, $0)) }
        return string(1, name) + bytes(2, bytes(1, int(1, 1) + bytes(2, shape)))
    }
    static func node(
        _ op: String, _ inputs: [String], _ outputs: [String], attributes: [[UInt8]] = [],
        domain: String = ""
    ) -> [UInt8] {
        inputs.flatMap { string(1, $0) } + outputs.flatMap { string(2, $0) } + string(3, "n_\(op)") + string(4, op)
            + attributes.flatMap { bytes(5, $0) } + (domain.isEmpty ? [] : string(7, domain))
    }
    /// TensorProto of float data (raw, or external with the given keys).
    static func tensor(
        _ name: String, _ dims: [Int64], raw: [Float]? = nil, external: [(String, String)] = []
    )
        -> [UInt8]
    {
        var t = dims.flatMap { int(1, $0) } + int(2, 1) + string(8, name)
        if let raw { t += bytes(9, raw.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }) }
        for (k, v) in external { t += bytes(13, string(1, k) + string(2, v)) }
        if !external.isEmpty { t += int(14, 1) }
        return t
    }
    static func model(
        nodes: [[UInt8]], initializers: [[UInt8]] = [], input: [Int64] = [1, 3, 8, 8],
        output: String = "y", opset: Int64 = 13
    ) -> [UInt8] {
        let graph =
            nodes.flatMap { bytes(1, $0) } + string(2, "g") + initializers.flatMap { bytes(5, $0) }
            + bytes(11, valueInfo("x", input)) + bytes(12, valueInfo(output, []))
        return int(1, 8) + bytes(8, int(2, opset)) + bytes(7, graph)
    }
}

final class ONNXImportTests: XCTestCase {
    private func importBytes(_ bytes: [UInt8], directory: String = "/tmp") throws -> ONNXImport {
        try ONNXImporter.parse(bytes, directory: directory, options: BuildOptions(), maxTensorBytes: 1 << 28)
    }

    /// A conv + global pool + flatten classifier written by hand: the smallest graph that imports.
    private func tinyClassifier(extra: [[UInt8]] = [], last: String = "p") -> [UInt8] {
        let w: [Float] = (0..<108).map { (i: Int) -> Float in Float(i % 7) * 0.1 - 0.3 }
        var pads: [UInt8] = PB.string(1, "pads")
        for _ in 0..<4 { pads += PB.int(8, 1) }
        pads += PB.int(20, 7)
        let conv: [UInt8] = PB.node("Conv", ["x", "w"], ["c"], attributes: [pads])
        let body: [[UInt8]] = [
            conv, PB.node("Relu", ["c"], ["r"]), PB.node("GlobalAveragePool", ["r"], ["g"]),
            PB.node("Flatten", ["g"], ["p"]),
        ]
        return PB.model(
            nodes: body + extra,
            initializers: [PB.tensor("w", [4, 3, 3, 3], raw: w)], output: last)
    }

    func testHandWrittenGraphImports() throws {
        let r = try importBytes(tinyClassifier())
        XCTAssertEqual(r.network.numClasses, 4)
        // Conv with its ReLU fused, the pool; Flatten is a view
        XCTAssertEqual(r.network.builder.nodes.map(\.op), [.conv, .globalAvgPool])
    }

    func testOddTopologyAtANonSquareInputMatchesONNXRuntime() throws {
        let dir = Fixtures.root + "/onnx"
        let r = try ONNXImporter.load(
            path: dir + "/odd_topology_160x128.onnx", options: BuildOptions(), maxTensorBytes: 1 << 28)
        XCTAssertEqual(r.network.builder.shape(0), Shape(height: 160, width: 128, channels: 3))
        let bytes = try ModelWriter.serialize(r.network, labels: (0..<7).map { "c\($0)" })
        let model = try Fixtures.model(bytes)
        let b = try FileBytes.read(dir + "/odd_topology_160x128.input.f16")
        let x = stride(from: 0, to: b.count - 1, by: 2).map {
            Float(Float16(bitPattern: UInt16(b[$0]) | UInt16(b[$0 + 1]) << 8))
        }
        let y = try Fixtures.run(model, threads: 2, nchw: x)
        let err = Fixtures.relativeError(y, try Fixtures.floats(dir + "/odd_topology_160x128.expected.f32"))
        XCTAssertLessThanOrEqual(err, 1e-3)
    }

    func testUnsupportedOpsAreNamedWithTheSupportedList() throws {
        let cases: [([UInt8], String)] = [
            (tinyClassifier(extra: [PB.node("Einsum", ["p"], ["e"])], last: "e"), "op 'Einsum' is not supported"),
            (
                tinyClassifier(extra: [PB.node("QLinearConv", ["p"], ["e"], domain: "com.microsoft")], last: "e"),
                "domain 'com.microsoft'"
            ),
            (tinyClassifier(extra: [PB.node("Resize", ["p"], ["e"])], last: "e"), "op 'Resize'"),
        ]
        for (bytes, expected) in cases {
            XCTAssertThrowsError(try importBytes(bytes)) { e in
                let m = (e as? MLRCError)?.message ?? ""
                XCTAssertTrue(m.contains(expected), m)
                XCTAssertTrue(m.contains("opset 13") && m.contains("GlobalAveragePool"), m)
            }
        }
    }

    func testHostileFilesAreErrors() throws {
        let hostile: [[UInt8]] = [
            [],
            [0x08],  // a varint cut short
            PB.int(1, 8) + PB.varint(7 << 3 | 2) + PB.varint(1 << 40),  // a graph longer than the file
            PB.int(1, 8) + [0x0b],  // a group (wire type 3)
            Array(repeating: 0xff, count: 20),  // a varint over 10 bytes
            // a tensor claiming 2^33 floats
            PB.model(
                nodes: [PB.node("Conv", ["x", "w"], ["y"])], initializers: [PB.tensor("w", [1 << 17, 1 << 16, 1, 1])]),
            // negative dimension, data that does not fit the shape
            PB.model(nodes: [PB.node("Conv", ["x", "w"], ["y"])], initializers: [PB.tensor("w", [-4, 3, 1, 1])]),
            PB.model(
                nodes: [PB.node("Conv", ["x", "w"], ["y"])], initializers: [PB.tensor("w", [4, 3, 1, 1], raw: [1, 2])]),
            // external data outside the model's folder, and past the end of its file
            PB.model(
                nodes: [PB.node("Conv", ["x", "w"], ["y"])],
                initializers: [PB.tensor("w", [4, 3, 1, 1], external: [("location", "../../etc/passwd")])]),
            PB.model(
                nodes: [PB.node("Conv", ["x", "w"], ["y"])],
                initializers: [PB.tensor("w", [4, 3, 1, 1], external: [("location", "/etc/passwd")])]),
            // a node reading a value nothing produced, a graph whose output is a feature map, two inputs
            PB.model(nodes: [PB.node("Relu", ["nothing"], ["y"])]),
            PB.model(nodes: [PB.node("Relu", ["x"], ["y"])]),
            PB.model(nodes: [PB.node("Relu", ["x"], ["y"])], input: [1, 3, 0, 8]),
            PB.model(nodes: [PB.node("Relu", ["x"], ["y"])], input: [1, 1, 8, 8]),
            PB.model(nodes: [PB.node("Relu", ["x"], ["y"])], opset: 3),
        ]
        for (k, bytes) in hostile.enumerated() {
            XCTAssertThrowsError(try importBytes(bytes), "case \(k)")
        }
        // external data located beside the model but shorter than the tensor
        let dir = "/tmp/mlrc-onnx-\(getpid())"
        mkdir(dir, 0o755)
        try FileBytes.write(dir + "/w.bin", [UInt8](repeating: 0, count: 20))
        let short = PB.model(
            nodes: [PB.node("Conv", ["x", "w"], ["y"])],
            initializers: [PB.tensor("w", [4, 3, 1, 1], external: [("location", "w.bin"), ("offset", "8")])])
        XCTAssertThrowsError(try importBytes(short, directory: dir))
        unlink(dir + "/w.bin")
        rmdir(dir)
    }

    func testTruncatedONNXFilesThrow() throws {
        for e in try Fixtures.entries(onnx: true) where e.checkpoint.hasSuffix(".onnx") {
            let bytes = try FileBytes.read(e.checkpoint)
            for cut in [1, 10, 100, bytes.count / 3, bytes.count / 2, bytes.count - 1] {
                let dir = String(e.checkpoint[..<e.checkpoint.lastIndex(of: "/")!])
                XCTAssertThrowsError(
                    try importBytes(Array(bytes[0..<cut]), directory: dir), "\(e.name) cut at \(cut)")
            }
        }
    }

    func testActivationsAreRecognisedHoweverTheyAreWritten() throws {
        // swish as Mul(x, Sigmoid(x)), GELU as Div, Erf, Add, Mul, Mul, hardswish as x * Clip(x + 3, 0, 6) / 6
        let scalar = { (name: String, v: Float) in PB.tensor(name, [], raw: [v]) }
        let spellings: [([[UInt8]], [[UInt8]], Activation)] = [
            ([PB.node("Sigmoid", ["c"], ["s"]), PB.node("Mul", ["c", "s"], ["a"])], [], .silu),
            (
                [
                    PB.node("Div", ["c", "sqrt2"], ["d"]), PB.node("Erf", ["d"], ["e"]),
                    PB.node("Add", ["e", "one"], ["f"]),
                    PB.node("Mul", ["c", "f"], ["m"]), PB.node("Mul", ["m", "half"], ["a"]),
                ],
                [scalar("sqrt2", 1.4142135), scalar("one", 1), scalar("half", 0.5)], .gelu
            ),
            (
                [
                    PB.node("Add", ["c", "three"], ["t"]), PB.node("Clip", ["t", "zero", "six"], ["k"]),
                    PB.node("Mul", ["c", "k"], ["m"]), PB.node("Div", ["m", "six"], ["a"]),
                ],
                [scalar("three", 3), scalar("zero", 0), scalar("six", 6)], .hardswish
            ),
        ]
        let w: [Float] = (0..<12).map { (i: Int) -> Float in Float(i) * 0.05 - 0.2 }
        for (act, constants, expected) in spellings {
            let bytes = PB.model(
                nodes: [PB.node("Conv", ["x", "w"], ["c"])] + act
                    + [PB.node("GlobalAveragePool", ["a"], ["g"]), PB.node("Flatten", ["g"], ["y"])],
                initializers: [PB.tensor("w", [4, 3, 1, 1], raw: w)] + constants)
            let r = try importBytes(bytes)
            XCTAssertEqual(r.network.builder.nodes.count, 2, "\(expected)")
            let conv = try r.network.builder.nodes[0].params()
            XCTAssertEqual(conv.activation, expected.rawValue)
        }
    }

    /// ONNX Runtime's quantize_static output: its scales are used as they are, and mlrc's int8 logits agree with
    /// ONNX Runtime's own int8 execution of the file.
    func testQDQModelKeepsItsScalesAndAgreesWithONNXRuntime() throws {
        let dir = Fixtures.root + "/onnx"
        let r = try ONNXImporter.load(
            path: dir + "/qdq_resnet_uint8.onnx", options: BuildOptions(), maxTensorBytes: 1 << 28)
        let net = r.network
        XCTAssertEqual(net.importedWeightScales.count, net.convolutionNodes.count)
        XCTAssertGreaterThanOrEqual(net.importedActivations.count, net.convolutionNodes.count)
        var options = QuantizeOptions()
        options.importedActivations = net.importedActivations
        options.importedWeightScales = net.importedWeightScales
        options.biasCorrection = false
        options.autoFallback = false
        let labels = (0..<net.numClasses).map { "c\($0)" }
        let outcome = try Quantizer.quantize(net, labels: labels, images: QuantizationTests.photos, options: options) {
            _, _, _ in
        }
        XCTAssertEqual(outcome.quantizedLayers, net.convolutionNodes.count)
        let model = try Fixtures.model(outcome.bytes)
        for photo in ["chelsea", "coffee"] {
            let y = try Fixtures.run(model, threads: 2, nchw: try Fixtures.input(photo))
            let ort = try Fixtures.floats(dir + "/qdq_resnet_uint8.\(photo).ort_int8.f32")
            XCTAssertGreaterThanOrEqual(QuantizationTests.cosine(y, ort), 0.999, photo)
            XCTAssertEqual(y.indices.max { y[$0] < y[$1] }, ort.indices.max { ort[$0] < ort[$1] }, photo)
        }
    }
}
