import MLRCConvert
import MLRCRuntime
import XCTest

/// mlrc's JPEG decoding and resize/crop/normalise against torchvision's (PIL) on the same photos.
final class PreprocessingTests: XCTestCase {
    func testMatchesTorchvision() throws {
        for photo in ["chelsea", "coffee"] {
            let jpeg = try FileBytes.read(Fixtures.root + "/images/\(photo).jpg")
            let image = try jpeg.withUnsafeBytes { try RGBImage(jpeg: $0) }
            var nhwc = [Float](repeating: 0, count: 224 * 224 * 3)
            try Preprocessor.preprocess(
                rgb: image.pixels, width: image.width, height: image.height, rowStride: image.width * 3,
                spec: .imagenet, into: &nhwc)
            let nchw = try Fixtures.input(photo)
            var worst: Float = 0, total: Float = 0
            for c in 0..<3 {
                for p in 0..<(224 * 224) {
                    let d = abs(nhwc[p * 3 + c] - nchw[c * 224 * 224 + p])
                    worst = max(worst, d)
                    total += d
                }
            }
            let mean = total / Float(nhwc.count)
            // One 8-bit step is 1/255/0.225 = 0.017 after normalisation; allow a step or two of rounding.
            XCTAssertLessThan(mean, 0.01, photo)
            XCTAssertLessThan(worst, 0.08, photo)
        }
    }

    func testResizeSizeLikeTorchvision() {
        XCTAssertEqual(Preprocessor.resizedSize(width: 451, height: 300, shorter: 256).width, 384)
        XCTAssertEqual(Preprocessor.resizedSize(width: 300, height: 451, shorter: 256).height, 384)
    }

    func testSizeLimits() {
        XCTAssertThrowsError(try Preprocessor.checkSize(width: 8, height: 8))
        XCTAssertThrowsError(try Preprocessor.checkSize(width: 100_000, height: 100_000))
        XCTAssertNoThrow(try Preprocessor.checkSize(width: 640, height: 480))
    }
}

enum MLRCConvertTestSupport {
    static func convert(_ path: String) throws -> [UInt8] {
        try Converter(options: BuildOptions(), precision: .fp32, labelsFile: nil).convert(checkpoint: path).bytes
    }
}
