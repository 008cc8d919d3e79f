import MLRCConvert
import MLRCRuntime
import XCTest

/// checkpoint -> quantize (fp32) -> .mlrc bytes -> runtime: logits match PyTorch's on real photos.
final class EndToEndTests: XCTestCase {
    func testEveryFixtureMatchesPyTorch() throws {
        let entries = try Fixtures.entries(onnx: true)
        XCTAssertGreaterThanOrEqual(entries.count, 5)
        for e in entries {
            let result = try Converter(options: BuildOptions(arch: e.arch), precision: .fp32, labelsFile: nil).convert(
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
            ("tv_resnet_basic_finetuned", "resnet_custom"), ("timm_seresnet", "seresnet"), ("tv_densenet", "densenet"),
            ("tv_mobilenet_v2", "mobilenet_v2"), ("tv_mobilenet_v3_small", "mobilenet_v3_small"),
            ("tv_mobilenet_v3_large", "mobilenet_v3_large"), ("tv_shufflenet_v2", "shufflenet_v2"),
            ("tv_mnasnet", "mnasnet"), ("tv_efficientnet_b", "efficientnet"), ("tv_regnet_y", "regnet_y"),
            ("tv_regnet_x", "regnet_x"), ("tv_squeezenet1_0", "squeezenet1_0"), ("tv_squeezenet1_1", "squeezenet1_1"),
            ("tv_vgg_bn", "vgg"), ("tv_convnext", "convnext"), ("timm_ghostnet", "ghostnet"),
            ("timm_mobilenetv1", "mobilenetv1"), ("timm_efficientnet_lite", "efficientnet_lite"),
            ("timm_convnext_conv_mlp", "convnext"),
        ]
        for (name, family) in cases {
            let e = try XCTUnwrap(try Fixtures.entries().first { $0.name == name })
            let net = try ArchitectureRecognizer.build(try StateDict.load(path: e.checkpoint), options: BuildOptions())
            XCTAssertTrue(net.architecture.hasPrefix(family), "\(name) -> \(net.architecture)")
            XCTAssertEqual(net.numClasses, e.classes)
        }
    }

    /// --arch names a size of a family whose names the checkpoint lacks: the error lists the missing names.
    func testArchThatDoesNotFitNamesWhatIsMissing() throws {
        let e = try XCTUnwrap(try Fixtures.entries().first { $0.name == "tv_mobilenet_v2" })
        let sd = try StateDict.load(path: e.checkpoint)
        XCTAssertThrowsError(try ArchitectureRecognizer.build(sd, options: BuildOptions(arch: "resnet18"))) {
            let text = "\($0)"
            XCTAssertTrue(text.contains("layer1.0.conv1.weight"), text)
            XCTAssertFalse(text.contains("0 stages"), text)
        }
        XCTAssertThrowsError(try ArchitectureRecognizer.build(sd, options: BuildOptions(arch: "resnet19"))) {
            XCTAssertTrue("\($0)".contains("--list-archs"), "\($0)")
        }
        let unknown = StateDict(tensors: ["w.weight": HostTensor(shape: [1], data: [0])], origin: "test")
        XCTAssertThrowsError(try ArchitectureRecognizer.build(unknown, options: BuildOptions())) {
            let text = "\($0)"
            XCTAssertTrue(text.contains("mobilenet_v3 (features.0.0.weight + features.1.block.0.0.weight)"), text)
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
