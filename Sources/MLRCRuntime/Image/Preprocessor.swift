import CMLRCKernels

/// Photo -> network input: resize the shorter side (antialiased bilinear or bicubic, as torchvision's Resize on a
/// PIL image), center crop (or resize the whole photo to the input size), scale to [0, 1], normalise with the
/// model's mean and std. Output is NHWC.
public enum Preprocessor {
    /// Smallest side accepted: anything smaller carries too little to classify.
    public static let minSide = 16
    /// Largest image accepted, in pixels (64 megapixels); bounds memory on a board.
    nonisolated(unsafe) public static var maxPixels: UInt64 = 64 << 20

    /// The size torchvision's Resize(shorter) gives: the shorter side becomes `shorter`, the other scales, truncated.
    public static func resizedSize(width: Int, height: Int, shorter: Int) -> (width: Int, height: Int) {
        if width <= height {
            return (shorter, max(shorter, Int(Double(shorter) * Double(height) / Double(width))))
        }
        return (max(shorter, Int(Double(shorter) * Double(width) / Double(height))), shorter)
    }

    public static func checkSize(width: Int, height: Int) throws {
        guard width >= minSide, height >= minSide else {
            throw MLRCError(.image, "image \(width)x\(height) is smaller than the \(minSide)x\(minSide) minimum")
        }
        guard UInt64(width) * UInt64(height) <= maxPixels else {
            throw MLRCError(.image, "image \(width)x\(height) exceeds the limit of \(maxPixels) pixels")
        }
        // The resized long side must stay a 32-bit size even for extreme aspect ratios.
        guard max(width, height) / min(width, height) <= 1 << 16 else {
            throw MLRCError(.image, "image \(width)x\(height): aspect ratio too extreme")
        }
    }

    public static func preprocess(
        rgb: UnsafePointer<UInt8>, width: Int, height: Int, rowStride: Int,
        spec: Preprocessing, into output: UnsafeMutablePointer<Float>
    ) throws {
        try checkSize(width: width, height: height)
        guard rowStride >= 3 * width, rowStride <= Int(Int32.max) else {
            throw MLRCError.argument("row stride \(rowStride) is less than 3 * width (\(3 * width))")
        }
        let size =
            spec.centerCrop
            ? resizedSize(width: width, height: height, shorter: spec.resizeShorterSide)
            : (width: spec.cropWidth, height: spec.cropHeight)
        guard size.width >= spec.cropWidth, size.height >= spec.cropHeight else {
            throw MLRCError(.internal, "resize \(size) smaller than the crop")
        }
        let status = spec.mean.withUnsafeBufferPointer { mean in
            spec.std.withUnsafeBufferPointer { std in
                mlrc_preprocess_rgb(
                    rgb, Int32(width), Int32(height), Int32(rowStride), Int32(size.width),
                    Int32(size.height), Int32(spec.cropWidth), Int32(spec.cropHeight),
                    mean.baseAddress, std.baseAddress, Int32(spec.interpolation.rawValue), output)
            }
        }
        if status != 0 { throw MLRCError(.memory, "out of memory while resizing the image") }
    }
}
