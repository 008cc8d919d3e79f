import CJPEGShim

/// A decoded 8-bit RGB image (rows packed), from the libjpeg shim.
public final class RGBImage {
    public let pixels: UnsafeMutablePointer<UInt8>
    public let width: Int
    public let height: Int
    private var image: mlrc_jpeg_image

    /// Decodes a JPEG, refusing images over `Preprocessor.maxPixels` before any large allocation.
    public init(jpeg data: UnsafeRawBufferPointer) throws {
        var img = mlrc_jpeg_image()
        var message = [CChar](repeating: 0, count: 256)
        let rc = mlrc_jpeg_decode(data.baseAddress, data.count, Preprocessor.maxPixels, &img, &message, message.count)
        guard rc == 0, let rgb = img.rgb else {
            let text = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw MLRCError(.image, text.isEmpty ? "cannot decode JPEG" : text)
        }
        image = img
        pixels = rgb
        width = Int(img.width)
        height = Int(img.height)
    }

    deinit { mlrc_jpeg_free(&image) }
}
