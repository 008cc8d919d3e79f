#if canImport(Glibc)
    import Glibc
#endif
import CMLRCKernels
@testable import MLRCConvert
@testable import MLRCRuntime
import XCTest

/// int8 quantization: calibration ranges, fidelity against PyTorch, fp32 fallback, hostile int8 models.
final class QuantizationTests: XCTestCase {
    static let photos: [[Float]] = {
        let dir = Fixtures.root + "/../../tools/calibration-photos"
        let files = (try? CalibrationSet.jpegFiles(in: dir, limit: 256)) ?? []
        // Every fourth photo: 8 crops keep the test fast and still span all four source photos.
        let some = stride(from: 0, to: files.count, by: 4).map { files[$0] }
        return
            (try? CalibrationSet.load(
                files: some, preprocessing: .imagenet, inputShape: Shape(height: 224, width: 224, channels: 3)
            ) { _, _ in })?.inputs ?? []
    }()

    static func quantize(
        _ name: String, _ options: QuantizeOptions = QuantizeOptions()
    ) throws -> (QuantizationOutcome, Int) {
        let e = try XCTUnwrap(try Fixtures.entries().first { $0.name == name })
        let net = try ArchitectureRecognizer.build(try StateDict.load(path: e.checkpoint), options: BuildOptions())
        let labels = (0..<net.numClasses).map { "c\($0)" }
        let fp32Size = try ModelWriter.serialize(net, labels: labels).count
        return (try Quantizer.quantize(net, labels: labels, images: photos, options: options) { _, _, _ in }, fp32Size)
    }

    static func cosine(_ a: [Float], _ b: [Float]) -> Float {
        let ab = zip(a, b).map { $0 * $1 }.reduce(0, +)
        return ab / ((a.map { $0 * $0 }.reduce(0, +) * b.map { $0 * $0 }.reduce(0, +)).squareRoot())
    }

    func testBundledCalibrationPhotosLoad() {
        XCTAssertEqual(Self.photos.count, 8)
    }

    /// Each family's int8 model agrees with PyTorch's fp32 logits on the fixture photos (cosine >= 0.99, same
    /// top-1), and its calibration-set report says so too. Size: these fixture nets are tiny, so per-channel
    /// scales, biases, LayerNorm weights and alignment weigh more than in a real net (EfficientNet-Lite0: 26%).
    func testInt8FixturesAgreeWithPyTorch() throws {
        for name in ["mlrc_small_zip_dict", "convnext_small_zip", "hsnet_small_zip"] {
            let (outcome, fp32Size) = try Self.quantize(name)
            XCTAssertLessThanOrEqual(Double(outcome.bytes.count), 0.4 * Double(fp32Size), name)
            XCTAssertGreaterThan(outcome.quantizedLayers, outcome.totalLayers / 2, name)
            XCTAssertGreaterThanOrEqual(outcome.fidelity.meanCosine, 0.99, name)
            let model = try Fixtures.model(outcome.bytes)
            for photo in ["chelsea", "coffee"] {
                let y = try Fixtures.run(model, threads: 2, nchw: try Fixtures.input(photo))
                let want = try Fixtures.expected(name, photo)
                XCTAssertGreaterThanOrEqual(Self.cosine(y, want), 0.99, "\(name) on \(photo)")
                XCTAssertEqual(FidelityMeter.argmax(y), FidelityMeter.argmax(want), "\(name) on \(photo)")
            }
        }
    }

    func testKeepFP32KeepsTheNamedLayerAndRefusesUnknownNames() throws {
        var options = QuantizeOptions()
        options.keepFP32 = ["stages.0.0.pwconv1"]
        let (outcome, _) = try Self.quantize("convnext_small_zip", options)
        let layer = try XCTUnwrap(outcome.fidelity.layers.first { $0.name == "stages.0.0.pwconv1" })
        XCTAssertFalse(layer.quantized)
        XCTAssertTrue(outcome.kept.contains { $0.name == "stages.0.0.pwconv1" && $0.reason == "--keep-fp32" })
        options.keepFP32 = ["no.such.layer"]
        XCTAssertThrowsError(try Self.quantize("convnext_small_zip", options))
    }

    /// A threshold no layer can meet, under a fidelity target no int8 model can meet, sends every layer back to
    /// fp32 (the fallback works, the report says why); a reachable target keeps them all in int8.
    func testSQNRThresholdFallsBackToFP32() throws {
        var options = QuantizeOptions()
        options.sqnrThreshold = 500
        options.targetCosine = 1.0001
        options.maxRounds = 2
        let (outcome, _) = try Self.quantize("mlrc_k7_safetensors_bf16", options)
        XCTAssertEqual(outcome.quantizedLayers, 0)
        XCTAssertEqual(outcome.kept.count, outcome.totalLayers)
        XCTAssertGreaterThan(outcome.fidelity.meanCosine, 0.99999)
        options.targetCosine = 0.99
        let (met, _) = try Self.quantize("mlrc_k7_safetensors_bf16", options)
        XCTAssertEqual(met.quantizedLayers, met.totalLayers)
        XCTAssertTrue(met.kept.isEmpty)
    }

    /// Pair-bounded weights: quantize keeps the weights of the layers it reports inside the bound (so the AVX2 rows
    /// that sum pairs in int16 may take them), measures no worse for it, and --full-weights keeps all 8 bits.
    func testPairBoundedWeightsStayInsideTheBound() throws {
        let (bounded, _) = try Self.quantize("convnext_small_zip")
        var options = QuantizeOptions()
        options.pairBoundWeights = false
        let (full, _) = try Self.quantize("convnext_small_zip", options)
        XCTAssertTrue(full.pairBounded.isEmpty)
        XCTAssertGreaterThan(bounded.pairBounded.count, 0)
        XCTAssertLessThanOrEqual(bounded.pairBounded.count, bounded.pairBoundCandidates)
        XCTAssertGreaterThanOrEqual(bounded.fidelity.meanCosine, full.fidelity.meanCosine - 3e-4)
        /// The int8 general convolutions whose packed weights are inside the bound, from the peaks the model
        /// measured when it opened (checked against the weights themselves).
        func inside(_ bytes: [UInt8]) throws -> Int {
            let model = try Fixtures.model(bytes)
            var count = 0
            for (index, step) in model.graph.steps.enumerated() {
                guard step.node.op == .quantizedConv,
                    let w = model.data(step.node.weights[0])?.assumingMemoryBound(to: Int8.self)
                else {
                    XCTAssertEqual(model.pairPeaks[index], Int32(MLRC_Q8_PAIR_PEAK_UNKNOWN))
                    continue
                }
                var g = step.geometry
                XCTAssertEqual(model.pairPeaks[index], mlrc_q8_conv_weight_pair_peak(&g, w))
                if model.pairPeaks[index] <= MLRC_Q8_MADDUBS_PAIR_LIMIT { count += 1 }
            }
            return count
        }
        XCTAssertGreaterThanOrEqual(try inside(bounded.bytes), bounded.pairBounded.count)
        XCTAssertLessThan(try inside(full.bytes), try inside(bounded.bytes))
        // On AVX2 without VNNI, sessions of the bounded model run those layers on the rows that sum pairs in int16.
        if mlrc_cpu_detected() & UInt32(MLRC_CPU_AVX2) != 0 {
            _ = mlrc_kernels_set_isa(Int32(MLRC_ISA_AVX2.rawValue))
            defer { _ = mlrc_kernels_set_isa(Int32(MLRC_ISA_AUTO.rawValue)) }
            let names = try Session(model: try Fixtures.model(bounded.bytes), threads: 1).kernelNames
            XCTAssertTrue(names.contains { $0.contains("avx2_maddubs") }, "\(names)")
        }
    }

    /// Reordering the channels between convolutions for better weight pairs leaves the fp32 network's function as
    /// it was (the same logits to float rounding) and is done where it lowers the pairing cost.
    func testChannelPairingKeepsTheFunction() throws {
        for name in ["convnext_small_zip", "mlrc_small_zip_dict"] {
            let e = try XCTUnwrap(try Fixtures.entries().first { $0.name == name })
            let net = try ArchitectureRecognizer.build(try StateDict.load(path: e.checkpoint), options: BuildOptions())
            let labels = (0..<net.numClasses).map { "c\($0)" }
            let x = try Fixtures.input("chelsea")
            let before = try Fixtures.run(try Fixtures.model(try ModelWriter.serialize(net, labels: labels)), nchw: x)
            let original = net.builder.tensors
            XCTAssertGreaterThan(ChannelPairing.apply(to: net), 0, name)
            XCTAssertNotEqual(net.builder.tensors, original, name)
            let after = try Fixtures.run(try Fixtures.model(try ModelWriter.serialize(net, labels: labels)), nchw: x)
            let range = (before.max() ?? 0) - (before.min() ?? 0)
            for (a, b) in zip(before, after) { XCTAssertEqual(a, b, accuracy: 1e-4 * range, name) }
        }
    }

    /// The C quantizer under the pair bound: every pair of input rows of a channel inside it, plain rounding where
    /// a pair already is, and a moved pair's error on the input row with less energy.
    func testPairBoundRounding() {
        // [k = 4][co = 1]: the pair (1.0, 0.9) must move (127 + 114 > 128); the pair (0.5, -0.5) need not.
        let w: [Float] = [1.0, 0.9, 0.5, -0.5]
        func codes(_ energy: [Double]) -> [Int8] {
            var scales: [Float] = [0], errors = [Double](repeating: 0, count: 1), out = [Int8](repeating: 0, count: 4)
            energy.withUnsafeBufferPointer { e in
                mlrc_quantize_weights(
                    w, 4, 1, 4, 1, [1.0], 1, Int32(MLRC_Q8_MADDUBS_PAIR_LIMIT), 4, e.baseAddress, Int32(e.count),
                    &scales, &errors, &out)
            }
            return out
        }
        let even = codes([1, 1, 1, 1]), first = codes([1, 0, 1, 1]), second = codes([0, 1, 1, 1])
        for q in [even, first, second] {
            XCTAssertEqual(Int(q[0]) + Int(q[1]), 128)
            XCTAssertEqual(Array(q[2...]), [64, -64])
        }
        XCTAssertEqual(first[0], 127)  // row 1 reads nothing: its weight takes the whole error
        XCTAssertEqual(second[1], 114)  // row 0 reads nothing: its weight moves, row 1 keeps round(0.9 * 127)
        XCTAssertEqual(Int(even[0]) - Int(even[1]), 12)  // even energies: both move by the same (56.7 each)
    }

    static func statistics(_ x: [Float]) -> ActivationStatistics {
        let s = ActivationStatistics(channels: 1)
        x.withUnsafeBufferPointer { s.observeRange($0.baseAddress!, count: $0.count) }
        s.startHistogram()
        x.withUnsafeBufferPointer { s.observeHistogram($0.baseAddress!, count: $0.count) }
        return s
    }

    func testCalibrationMethods() {
        // 10,000 values uniform in [0, 1] and one outlier at 100: percentile clips it; MSE keeps it (clipping
        // one value by 99 costs more than the coarser step costs the rest).
        let s = Self.statistics((0..<10_000).map { Float($0) / 10_000 } + [100])
        XCTAssertEqual(s.range(.minmax).hi, 100)
        XCTAssertLessThan(s.range(.percentile).hi, 1.2)
        XCTAssertEqual(s.range(.mse).hi, 100)
        for m in CalibrationMethod.allCases { XCTAssertEqual(s.range(m).lo, 0, "\(m)") }
        // A long (exponential) tail on both sides: MSE and percentile clip it, symmetric data stays centred.
        // (Entropy keeps this tail: the spike that clipping folds onto the edge bin costs it more.)
        let tail = (1..<10_000).map { -Float(log(Double($0) / 10_000)) }
        let t = Self.statistics(tail + tail.map { -$0 })
        let full = t.range(.minmax)
        for m in [CalibrationMethod.mse, .percentile] {
            let r = t.range(m)
            XCTAssertLessThan(r.hi, full.hi, "\(m)")
            XCTAssertGreaterThan(r.hi, 0.3 * full.hi, "\(m)")
            XCTAssertEqual(r.lo, -r.hi, accuracy: 0.2 * full.hi, "\(m)")
        }
        let p = quantParams(lo: -1, hi: 3)
        XCTAssertEqual(p.zero, 64)
        XCTAssertEqual(p.scale, 4 / 255, accuracy: 1e-7)
    }

    /// A non-finite requantization scale (checksum recomputed) is refused before anything runs.
    func testNonFiniteScaleIsRefused() throws {
        var options = QuantizeOptions()
        options.autoFallback = false
        var bytes = try Self.quantize("mlrc_k7_safetensors_bf16", options).0.bytes
        let d = try ModelFileReader.read(bytes.withUnsafeBytes { $0 })
        let conv = try XCTUnwrap(d.nodes.first { $0.op == .quantizedConv })
        let offset = d.tensors[conv.weights[2]].offset
        for (i, b) in Float.nan.bitPattern.littleEndianBytes.enumerated() { bytes[offset + i] = b }
        let crc = bytes.withUnsafeBytes { ModelFileReader.checksum($0) }
        for i in 0..<4 { bytes[24 + i] = UInt8((crc >> (8 * UInt32(i))) & 0xFF) }
        XCTAssertThrowsError(try Fixtures.model(bytes)) { error in
            XCTAssertTrue((error as? MLRCError)?.message.contains("non-finite") ?? false, "\(error)")
        }
    }

    /// quantize writes int8 weights in [-127, 127]; a file holding -128 (checksum recomputed) is refused, since the
    /// NEON kernels sum two 8-bit products in int16. The untouched file opens.
    func testWeightMinus128IsRefused() throws {
        var options = QuantizeOptions()
        options.autoFallback = false
        var bytes = try Self.quantize("mlrc_k7_safetensors_bf16", options).0.bytes
        XCTAssertNoThrow(try Fixtures.model(bytes))
        let d = try ModelFileReader.read(bytes.withUnsafeBytes { $0 })
        let conv = try XCTUnwrap(d.nodes.first { $0.op == .quantizedConv })
        bytes[d.tensors[conv.weights[0]].offset + 1] = 0x80
        let crc = bytes.withUnsafeBytes { ModelFileReader.checksum($0) }
        for i in 0..<4 { bytes[24 + i] = UInt8((crc >> (8 * UInt32(i))) & 0xFF) }
        XCTAssertThrowsError(try Fixtures.model(bytes)) { error in
            XCTAssertTrue((error as? MLRCError)?.message.contains("-128") ?? false, "\(error)")
        }
    }
}

extension UInt32 {
    var littleEndianBytes: [UInt8] { (0..<4).map { UInt8((self >> (8 * UInt32($0))) & 0xFF) } }
}
