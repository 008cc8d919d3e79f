import MLRCConvert
import MLRCRuntime
import XCTest

/// checkpoint -> quantize (fp32) -> .mlrc bytes -> runtime: logits match PyTorch's on real photos.
final class EndToEndTests: XCTestCase {
    func testEveryFixtureMatchesPyTorch() throws {
        let entries = try Fixtures.entries()
        XCTAssertGreaterThanOrEqual(entries.count, 5)
        for e in entries {
            let result = try Converter(options: BuildOptions(), precision: .fp32, labelsFile: nil).convert(
                checkpoint: e.checkpoint)
            let model = try Fixtures.model(result.bytes)
            XCTAssertEqual(model.numClasses, e.classes, e.name)
            for photo in ["chelsea", "coffee"] {
                let y = try Fixtures.run(model, threads: 2, nchw: try Fixtures.input(photo))
                let err = Fixtures.relativeError(y, try Fixtures.expected(e.name, photo))
                XCTAssertLessThanOrEqual(err, 1e-3, "\(e.name) on \(photo)")
            }
        }
    }

    func testRecognisesFamiliesAndShapes() throws {
        let cases: [(String, String)] = [
            ("mlrc_small_zip_dict", "mlrc_convnext"), ("convnext_small_zip", "convnext"),
            ("hsnet_small_zip", "hsnet"), ("mlrc_k7_safetensors_bf16", "mlrc_convnext"),
        ]
        for (name, family) in cases {
            let e = try XCTUnwrap(try Fixtures.entries().first { $0.name == name })
            let net = try ArchitectureRecognizer.build(try StateDict.load(path: e.checkpoint), options: BuildOptions())
            XCTAssertTrue(net.architecture.hasPrefix(family), "\(name) -> \(net.architecture)")
            XCTAssertEqual(net.numClasses, e.classes)
        }
    }

    func testStageShortcutOverrideChangesTheOutput() throws {
        let e = try XCTUnwrap(try Fixtures.entries().first { $0.name == "mlrc_small_zip_dict" })
        var options = BuildOptions()
        options.stageShortcut = false
        let off = try Converter(options: options, precision: .fp32, labelsFile: nil).convert(checkpoint: e.checkpoint)
        let y = try Fixtures.run(try Fixtures.model(off.bytes), nchw: try Fixtures.input("chelsea"))
        XCTAssertGreaterThan(Fixtures.relativeError(y, try Fixtures.expected(e.name, "chelsea")), 1e-2)
    }

    /// The same ConvNeXt under timm's parameter names gives the same logits.
    func testTimmNamingIsAccepted() throws {
        let e = try XCTUnwrap(try Fixtures.entries().first { $0.name == "convnext_small_zip" })
        let official = try StateDict.load(path: e.checkpoint)
        var renamed: [String: HostTensor] = [:]
        for (name, t) in official.tensors {
            var n = name
            let p = n.split(separator: ".").map(String.init)
            if n.hasPrefix("downsample_layers.0.") {
                n = "stem." + p[2...].joined(separator: ".")
            } else if n.hasPrefix("downsample_layers.") {
                n = "stages.\(p[1]).downsample." + p[2...].joined(separator: ".")
            } else if n.hasPrefix("stages.") {
                let timm = ["dwconv": "conv_dw", "pwconv1": "mlp.fc1", "pwconv2": "mlp.fc2"]
                let rest = ([timm[p[3]] ?? p[3]] + p[4...]).joined(separator: ".")
                n = "stages.\(p[1]).blocks.\(p[2]).\(rest)"
            } else if n.hasPrefix("norm.") {
                n = "head.norm." + p[1]
            } else if n.hasPrefix("head.") {
                n = "head.fc." + p[1]
            }
            renamed[n] = t
        }
        XCTAssertTrue(renamed.keys.contains("stages.0.blocks.0.conv_dw.weight"))
        let net = try ArchitectureRecognizer.build(StateDict(tensors: renamed, origin: "timm"), options: BuildOptions())
        let bytes = try ModelWriter.serialize(net, labels: (0..<net.numClasses).map { "c\($0)" })
        let y = try Fixtures.run(try Fixtures.model(bytes), nchw: try Fixtures.input("chelsea"))
        XCTAssertLessThanOrEqual(Fixtures.relativeError(y, try Fixtures.expected(e.name, "chelsea")), 1e-3)
    }

    func testInt8IsRefusedClearlyForNow() {
        XCTAssertThrowsError(
            try Converter(options: BuildOptions(), precision: .int8, labelsFile: nil).convert(checkpoint: "x"))
    }
}
