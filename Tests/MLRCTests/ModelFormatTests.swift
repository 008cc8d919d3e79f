import MLRCConvert
import MLRCRuntime
import XCTest

final class ModelFormatTests: XCTestCase {
    func smallModelBytes() throws -> [UInt8] {
        let e = try XCTUnwrap(try Fixtures.entries().first { $0.name == "hsnet_small_zip" })
        return try Converter(options: BuildOptions(), precision: .fp32, labelsFile: nil).convert(
            checkpoint: e.checkpoint
        ).bytes
    }

    func testRoundTripAndAlignment() throws {
        let bytes = try smallModelBytes()
        let d = try bytes.withUnsafeBytes { try ModelFileReader.read($0) }
        XCTAssertEqual(d.labels.count, 100)
        XCTAssertEqual(d.inputShape, Shape(height: 224, width: 224, channels: 3))
        XCTAssertTrue(d.tensors.allSatisfy { $0.offset % 64 == 0 })
        XCTAssertEqual(d.labels[7], "class_7")
    }

    func testEveryTruncationAndBitFlipIsRefused() throws {
        let bytes = try smallModelBytes()
        for cut in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 97)) {
            XCTAssertThrowsError(try Fixtures.model(Array(bytes[0..<cut])), "cut \(cut)")
        }
        for at in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 131)) {
            var bad = bytes
            bad[at] ^= 0x04
            XCTAssertThrowsError(try Fixtures.model(bad), "flip at \(at)")
        }
    }

    /// A tampered graph with a recomputed checksum is still refused by structural validation.
    func testStructuralValidationBehindTheChecksum() throws {
        var bytes = try smallModelBytes()
        let d = try bytes.withUnsafeBytes { try ModelFileReader.read($0) }
        XCTAssertFalse(d.nodes.isEmpty)
        // Find the GRPH section's first node's first input and point it at a later value.
        let graphOffset = try bytes.withUnsafeBytes { raw -> Int in
            var r = ByteReader(raw, position: 64, context: "t")
            for _ in 0..<5 {
                let tag = try r.u32(); _ = try r.u32()
                let off = try r.offset("o"); _ = try r.offset("s")
                if tag == ModelFormat.Tag.graph.rawValue { return off }
            }
            return -1
        }
        XCTAssertGreaterThan(graphOffset, 0)
        let firstInput = graphOffset + 8 + 4 + 4  // count, output, op, input count
        bytes[firstInput] = 200
        let crc = bytes.withUnsafeBytes { ModelFileReader.checksum($0) }
        for i in 0..<4 { bytes[24 + i] = UInt8((crc >> (8 * UInt32(i))) & 0xFF) }
        XCTAssertThrowsError(try Fixtures.model(bytes)) {
            XCTAssertTrue("\($0)".contains("not an earlier value"), "\($0)")
        }
    }

    /// The section table's entries: (tag, offset, size).
    func sections(_ bytes: [UInt8]) throws -> [(UInt32, Int, Int)] {
        try bytes.withUnsafeBytes { raw in
            var h = ByteReader(raw, position: 28, context: "t")
            let count = Int(try h.u32())
            var r = ByteReader(raw, position: 64, context: "t")
            return try (0..<count).map { _ in
                let tag = try r.u32()
                _ = try r.u32()
                return (tag, try r.offset("o"), try r.offset("s"))
            }
        }
    }

    /// --interpolation and --no-crop live in the optional PREP section: absent with the defaults (the file reads as
    /// before), read back when written, refused when it holds values this library does not know.
    func testPreprocessingSection() throws {
        let e = try XCTUnwrap(try Fixtures.entries().first { $0.name == "hsnet_small_zip" })
        let plain = try smallModelBytes()
        XCTAssertFalse(try sections(plain).contains { $0.0 == ModelFormat.Tag.preprocessing.rawValue })
        let d0 = try plain.withUnsafeBytes { try ModelFileReader.read($0) }
        XCTAssertEqual(d0.preprocessing.interpolation, .bilinear)
        XCTAssertTrue(d0.preprocessing.centerCrop)

        var options = BuildOptions()
        options.interpolation = .bicubic
        options.centerCrop = false
        var bytes = try Converter(options: options, precision: .fp32, labelsFile: nil).convert(
            checkpoint: e.checkpoint
        ).bytes
        let d = try bytes.withUnsafeBytes { try ModelFileReader.read($0) }
        XCTAssertEqual(d.preprocessing.interpolation, .bicubic)
        XCTAssertFalse(d.preprocessing.centerCrop)
        XCTAssertEqual(d.preprocessing.resizeShorterSide, 224)  // what a reader without PREP would use
        XCTAssertTrue(d.preprocessing.json.contains("\"interpolation\": \"bicubic\""), d.preprocessing.json)

        let prep = try XCTUnwrap(try sections(bytes).first { $0.0 == ModelFormat.Tag.preprocessing.rawValue })
        XCTAssertEqual(prep.2, 8)
        for (at, value) in [(prep.1, UInt8(7)), (prep.1 + 4, UInt8(2))] {
            var bad = bytes
            bad[at] = value
            let crc = bad.withUnsafeBytes { ModelFileReader.checksum($0) }
            for i in 0..<4 { bad[24 + i] = UInt8((crc >> (8 * UInt32(i))) & 0xFF) }
            XCTAssertThrowsError(try Fixtures.model(bad)) { XCTAssertTrue("\($0)".contains("PREP"), "\($0)") }
        }
        bytes[prep.1] = 0  // bilinear, still no crop: valid
        let crc = bytes.withUnsafeBytes { ModelFileReader.checksum($0) }
        for i in 0..<4 { bytes[24 + i] = UInt8((crc >> (8 * UInt32(i))) & 0xFF) }
        XCTAssertEqual(
            try bytes.withUnsafeBytes { try ModelFileReader.read($0) }.preprocessing.interpolation, .bilinear)
    }
}
