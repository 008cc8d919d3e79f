/// Constants of the `.mlrc` file format (docs/FORMAT.md is the prose version).
///
/// Layout: a 64-byte header, a section table, then sections. All integers little-endian.
/// Tensor data sits in the DATA section with every tensor 64-byte aligned, so a mapped file is used in place.
public enum ModelFormat {
    /// "MLRC" then 0x00 0x0D 0x0A 0x1A: the binary/newline bytes catch text-mode mangling, as PNG's do.
    public static let magic: [UInt8] = [0x4D, 0x4C, 0x52, 0x43, 0x00, 0x0D, 0x0A, 0x1A]
    /// A reader refuses a major version it does not know; minor versions only add sections it may ignore.
    public static let majorVersion: UInt16 = 1
    public static let minorVersion: UInt16 = 3
    public static let headerSize = 64
    public static let sectionEntrySize = 24
    public static let crcOffset = 24
    public static let tensorAlignment = 64
    /// Largest section table, tensor table, graph or label list a reader accepts (hostile-file bounds).
    public static let maxSections = 64
    public static let maxTensors = 1 << 20
    public static let maxNodes = 1 << 20
    public static let maxLabels = 1 << 20
    public static let maxRank = 8

    /// Section tags, four ASCII bytes read as a little-endian UInt32.
    public enum Tag: UInt32 {
        case info = 0x4F46_4E49  // "INFO"
        case labels = 0x4C42_414C  // "LABL"
        case tensors = 0x534E_4554  // "TENS"
        case graph = 0x4850_5247  // "GRPH"
        case data = 0x4154_4144  // "DATA"
        /// Since 1.3: the resize filter and whether to crop (absent: bilinear with a centre crop).
        case preprocessing = 0x5045_5250  // "PREP"
    }
}

/// Element types of stored tensors. int8/int32 are for quantized models.
public enum TensorDType: UInt32, Sendable {
    case float32 = 0
    case int8 = 1
    case int32 = 2

    public var byteSize: Int {
        switch self {
        case .float32, .int32: return 4
        case .int8: return 1
        }
    }
}
