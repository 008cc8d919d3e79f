import CMLRCKernels
import XCTest

/// Every optimized kernel against its reference, over odd shapes.
final class KernelTests: XCTestCase {
    override func tearDown() { _ = mlrc_kernels_set_isa(Int32(MLRC_ISA_AUTO.rawValue)) }

    func random(_ n: Int, seed: inout UInt64) -> [Float] {
        (0..<n).map { _ in
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int((seed >> 33) % 2001) - 1000) / 1000
        }
    }

    func testGemmAVX2MatchesReference() throws {
        try XCTSkipUnless(mlrc_cpu_detected() & UInt32(MLRC_CPU_AVX2) != 0, "no AVX2/FMA")
        var seed: UInt64 = 1
        for (m, n, k) in [(1, 1, 1), (1, 1000, 64), (7, 17, 3), (13, 33, 57), (49, 24, 160), (6, 16, 8), (100, 7, 31)] {
            for act in [MLRC_ACT_NONE, MLRC_ACT_RELU, MLRC_ACT_RELU6, MLRC_ACT_GELU, MLRC_ACT_SIGMOID] {
                let a = random(m * k, seed: &seed), b = random(k * n, seed: &seed), bias = random(n, seed: &seed)
                var ref = [Float](repeating: 0, count: m * n), opt = ref
                mlrc_f32_gemm_ref(
                    Int32(m), Int32(n), Int32(k), a, Int32(k), b, Int32(n), bias, &ref, Int32(n), Int32(act.rawValue), 2
                )
                mlrc_f32_gemm_6x16_avx2(
                    Int32(m), Int32(n), Int32(k), a, Int32(k), b, Int32(n), bias, &opt, Int32(n), Int32(act.rawValue), 2
                )
                let err = zip(ref, opt).map { abs($0 - $1) / max(1, abs($0)) }.max() ?? 0
                XCTAssertLessThan(err, 1e-5, "gemm \(m)x\(n)x\(k) act \(act.rawValue)")
            }
        }
    }

    func testDepthwiseAVX2MatchesReference() throws {
        try XCTSkipUnless(mlrc_cpu_detected() & UInt32(MLRC_CPU_AVX2) != 0, "no AVX2/FMA")
        var seed: UInt64 = 2
        let shapes = [
            (1, 1, 1, 1, 1, 1, 0, 0), (7, 9, 17, 3, 3, 1, 1, 1), (57, 57, 33, 7, 7, 1, 3, 3),
            (14, 14, 3, 3, 1, 1, 1, 0),
            (14, 14, 33, 1, 3, 1, 0, 1), (15, 16, 7, 3, 3, 2, 0, 0), (28, 28, 24, 5, 5, 2, 1, 1),
        ]
        for (h, w, c, kh, kw, s, ph, pw) in shapes {
            let oh = (h + 2 * ph - kh) / s + 1, ow = (w + 2 * pw - kw) / s + 1
            var g = mlrc_conv_geometry(
                in_h: Int32(h), in_w: Int32(w), in_c: Int32(c), out_h: Int32(oh), out_w: Int32(ow),
                out_c: Int32(c), kernel_h: Int32(kh), kernel_w: Int32(kw), stride_h: Int32(s),
                stride_w: Int32(s), pad_top: Int32(ph), pad_left: Int32(pw), groups: Int32(c))
            let x = random(h * w * c, seed: &seed), wt = random(kh * kw * c, seed: &seed), bias = random(c, seed: &seed)
            var ref = [Float](repeating: 0, count: oh * ow * c), opt = ref
            mlrc_f32_dwconv_ref(&g, x, wt, bias, &ref, Int32(MLRC_ACT_RELU6.rawValue), 0, g.out_h, 0, 1)
            mlrc_f32_dwconv_avx2(&g, x, wt, bias, &opt, Int32(MLRC_ACT_RELU6.rawValue), 0, g.out_h, 0, 1)
            let err = zip(ref, opt).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThan(err, 1e-5, "dwconv \(h)x\(w)x\(c) k\(kh)x\(kw) s\(s)")
        }
    }

    func testIndirectConvMatchesIm2col() throws {
        try XCTSkipUnless(mlrc_cpu_detected() & UInt32(MLRC_CPU_AVX2) != 0, "no AVX2/FMA")
        var seed: UInt64 = 3
        // (h, w, cin, cout, groups, kh, kw, stride, padTop, padLeft, padBottom, padRight)
        let shapes = [
            (1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0), (9, 7, 3, 17, 1, 3, 3, 2, 1, 1, 1, 1),
            (17, 17, 32, 32, 4, 3, 3, 1, 1, 1, 1, 1), (15, 15, 44, 44, 4, 3, 3, 1, 1, 1, 1, 1),
            (224, 224, 3, 32, 1, 3, 3, 2, 0, 0, 1, 1), (33, 33, 8, 33, 1, 4, 4, 4, 0, 0, 0, 0),
            (14, 14, 7, 9, 1, 2, 2, 2, 0, 0, 0, 0), (5, 11, 6, 6, 3, 1, 7, 1, 0, 3, 0, 3),
            (57, 57, 16, 24, 2, 5, 5, 2, 1, 2, 2, 1), (3, 3, 400, 100, 4, 3, 3, 1, 1, 1, 1, 1),
        ]
        for (h, w, cin, cout, groups, kh, kw, s, pt, pl, pb, pr) in shapes {
            let oh = (h + pt + pb - kh) / s + 1, ow = (w + pl + pr - kw) / s + 1
            var g = mlrc_conv_geometry(
                in_h: Int32(h), in_w: Int32(w), in_c: Int32(cin), out_h: Int32(oh), out_w: Int32(ow),
                out_c: Int32(cout), kernel_h: Int32(kh), kernel_w: Int32(kw), stride_h: Int32(s),
                stride_w: Int32(s), pad_top: Int32(pt), pad_left: Int32(pl), groups: Int32(groups))
            let x = random(h * w * cin, seed: &seed), wt = random(kh * kw * cin / groups * cout, seed: &seed)
            let bias = random(cout, seed: &seed)
            var ref = [Float](repeating: 0, count: oh * ow * cout), opt = ref
            var scratch = [Float](repeating: 0, count: max(1, Int(mlrc_f32_conv_scratch_floats(&g))))
            _ = mlrc_kernels_set_isa(Int32(MLRC_ISA_REFERENCE.rawValue))
            var plan = mlrc_kernel_plan()
            mlrc_f32_conv_plan(&g, 0, 2, &plan)
            XCTAssertEqual(
                plan.arrangement,
                Int32(g.kernel_h * g.kernel_w == 1 && s == 1 && groups == 1 ? MLRC_CONV_GEMM : MLRC_CONV_IM2COL))
            XCTAssertEqual(
                mlrc_f32_conv_run(&plan, &g, x, wt, bias, &ref, &scratch, Int32(MLRC_ACT_GELU.rawValue), 2), 0)
            _ = mlrc_kernels_set_isa(Int32(MLRC_ISA_AUTO.rawValue))
            XCTAssertEqual(mlrc_f32_conv_indirect_suits(&g, mlrc_cpu_detected()), 1)
            mlrc_f32_conv_indirect_6x16_avx2(&g, x, wt, bias, &opt, Int32(MLRC_ACT_GELU.rawValue), 0, 0, nil, 0, (g.out_h * g.out_w + 5) / 6)
            let err = zip(ref, opt).map { abs($0 - $1) / max(1, abs($0)) }.max() ?? 0
            XCTAssertLessThan(err, 1e-5, "conv \(h)x\(w)x\(cin)->\(cout) g\(groups) k\(kh)x\(kw) s\(s)")
        }
    }

    /// The whole network on the reference kernels agrees with the optimized ones.
    func testNetworkOnReferenceKernels() throws {
        let e = try XCTUnwrap(try Fixtures.entries().first { $0.name == "hsnet_small_zip" })
        let bytes = try MLRCConvertTestSupport.convert(e.checkpoint)
        let model = try Fixtures.model(bytes)
        let x = try Fixtures.input("coffee")
        _ = mlrc_kernels_set_isa(Int32(MLRC_ISA_REFERENCE.rawValue))
        let ref = try Fixtures.run(model, nchw: x)
        _ = mlrc_kernels_set_isa(Int32(MLRC_ISA_AUTO.rawValue))
        let opt = try Fixtures.run(model, nchw: x)
        XCTAssertLessThan(Fixtures.relativeError(opt, ref), 1e-5)
    }

    func testCRC32CKnownValueAndHardwareAgreesWithTable() {
        let s = Array("123456789".utf8)
        XCTAssertEqual(mlrc_crc32c(0, s, s.count), 0xE306_9283)
        XCTAssertEqual(mlrc_crc32c_portable(0, s, s.count), 0xE306_9283)
        var seed: UInt64 = 9
        let data = (0..<100_003).map { _ -> UInt8 in
            seed = seed &* 6364136223846793005 &+ 1
            return UInt8(truncatingIfNeeded: seed >> 40)
        }
        for (start, count) in [(0, 100_003), (1, 77), (3, 65_536), (5, 0)] {
            data.withUnsafeBytes { raw in
                let p = raw.baseAddress! + start
                XCTAssertEqual(mlrc_crc32c(7, p, count), mlrc_crc32c_portable(7, p, count))
            }
        }
    }
}
