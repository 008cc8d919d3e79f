#if canImport(Glibc)
    import Glibc
#endif
import MLRCConvert
import MLRCRuntime
import XCTest

/// What quantize reads beside the weights of a training checkpoint (tools/make_training_fixtures.py).
final class TrainingMetadataTests: XCTestCase {
    static let classes = [
        "T-shirt_top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
        "Ankle boot \u{2713}",
    ]

    func path(_ name: String) -> String { Fixtures.root + "/checkpoints/" + name + ".pth" }

    func testReadsTheTrainScriptsEntry() throws {
        let sd = try StateDict.load(path: path("trained_densenet_mlrc"))
        XCTAssertEqual(sd.origin, "the 'model' entry")
        let m = try XCTUnwrap(sd.metadata)
        XCTAssertEqual(m.arch, "densenet121")
        XCTAssertEqual(m.classes, Self.classes)
        XCTAssertEqual(m.inputSize, 64)
        XCTAssertEqual(m.resize, 72)
        XCTAssertEqual(m.mean, [0.5, 0.5, 0.5])
        XCTAssertEqual(m.std, [0.25, 0.25, 0.25])
        XCTAssertEqual(m.interpolation, .bicubic)
        XCTAssertEqual(m.calibration, "Tests/Fixtures/images")
        XCTAssertNil(m.stageShortcut)
    }

    /// No flags: the model file gets the recorded class names and preprocessing.
    func testConvertsWithNoFlags() throws {
        let result = try Converter(options: BuildOptions(), precision: .fp32, labelsFile: nil)
            .convert(checkpoint: path("trained_densenet_mlrc"))
        let p = result.network.preprocessing
        XCTAssertEqual([p.resizeShorterSide, p.cropHeight, p.cropWidth], [72, 64, 64])
        XCTAssertEqual(p.mean, [0.5, 0.5, 0.5])
        XCTAssertEqual(p.std, [0.25, 0.25, 0.25])
        XCTAssertEqual(p.interpolation, .bicubic)
        XCTAssertTrue(result.labelSource.contains("'mlrc' entry"), result.labelSource)
        let model = try Fixtures.model(result.bytes)
        XCTAssertEqual(model.labels, Self.classes)
    }

    /// Flags given win; a size given drops the recorded resize, which belonged to the recorded size.
    func testFlagsTakePrecedence() throws {
        var options = BuildOptions(inputSize: 96)
        options.std = [1, 1, 1]
        let labels = "/tmp/mlrc-labels-\(getpid()).txt"
        try FileBytes.write(labels, Array((0..<10).map { "c\($0)" }.joined(separator: "\n").utf8))
        defer { unlink(labels) }
        let result = try Converter(options: options, precision: .fp32, labelsFile: labels)
            .convert(checkpoint: path("trained_densenet_mlrc"))
        let p = result.network.preprocessing
        XCTAssertEqual([p.resizeShorterSide, p.cropHeight], [110, 96])
        XCTAssertEqual(p.std, [1, 1, 1])
        XCTAssertEqual(p.mean, [0.5, 0.5, 0.5])
        XCTAssertEqual(result.labelSource, labels)
    }

    func testReadsClassToIdx() throws {
        let result = try Converter(options: BuildOptions(), precision: .fp32, labelsFile: nil)
            .convert(checkpoint: path("trained_densenet_class_to_idx"))
        XCTAssertTrue(result.labelSource.contains("'class_to_idx'"), result.labelSource)
        XCTAssertEqual(result.network.preprocessing, Preprocessing.imagenet)
        XCTAssertEqual(try Fixtures.model(result.bytes).labels, Self.classes)
    }

    func testRefusesBadEntriesWithAClearMessage() {
        let cases = [
            ("newer_format", "format 2, newer"), ("size_as_string", "'input_size' must be an integer"),
            ("std_zero", "'std' must be three numbers"), ("classes_with_newline", "'classes' item 1"),
            ("not_a_dict", "is not a dict"),
        ]
        for (name, message) in cases {
            XCTAssertThrowsError(try StateDict.load(path: path("trained_bad_" + name)), name) { error in
                let e = error as? MLRCError
                XCTAssertEqual(e?.kind, .format, name)
                XCTAssertTrue(e?.message.contains(message) ?? false, "\(name): \(e?.message ?? "\(error)")")
            }
        }
    }

    /// An ImageFolder: every class folder is drawn from in turn, so a small limit still covers them all.
    func testCalibrationTakesClassFoldersInTurn() throws {
        let root = "/tmp/mlrc-calib-\(getpid())"
        let photos = try CalibrationSet.jpegFiles(in: Fixtures.root + "/../../tools/calibration-photos", limit: 3)
        XCTAssertEqual(photos.count, 3)
        for cls in ["a", "b", "c"] {
            XCTAssertEqual(mkdir(root, 0o755) == 0 || errno == EEXIST, true)
            XCTAssertEqual(mkdir(root + "/" + cls, 0o755), 0)
            for (i, photo) in photos.enumerated() {
                XCTAssertEqual(link(photo, "\(root)/\(cls)/\(i).jpg"), 0)
            }
        }
        defer {
            for cls in ["a", "b", "c"] {
                for i in 0..<3 { unlink("\(root)/\(cls)/\(i).jpg") }
                rmdir(root + "/" + cls)
            }
            rmdir(root)
        }
        let picked = try CalibrationSet.jpegFiles(in: root, limit: 4)
        XCTAssertEqual(picked, ["\(root)/a/0.jpg", "\(root)/b/0.jpg", "\(root)/c/0.jpg", "\(root)/a/1.jpg"])
        XCTAssertEqual(try CalibrationSet.jpegFiles(in: root, limit: 100).count, 9)
    }
}
