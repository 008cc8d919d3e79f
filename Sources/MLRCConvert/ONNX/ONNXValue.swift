import MLRCRuntime

/// How an ONNX tensor maps onto the graph being built. mlrc's values are NHWC feature maps, so the logical ONNX
/// layouts below are all views of one value: an NCHW map and its NHWC transpose (ConvNeXt's Linear layers) share it,
/// and so do the flattened, squeezed and shuffled views that feed classifiers and channel shuffles.
enum ONNXValue {
    case constant(ONNXConstant)
    /// mlrc value `value`, seen by ONNX in `layout`.
    case feature(Int, ONNXLayout)
    /// [1, C*H*W]: an NCHW map of more than one pixel flattened (VGG's classifier input).
    case flattened(Int)
    /// [1, g, C/g, H, W]: an NCHW map reshaped for a channel shuffle; `transposed`: after Transpose(0, 2, 1, 3, 4).
    case grouped(Int, groups: Int, transposed: Bool)
    /// An NCHW map padded with zeros by a Pad node (TensorFlow exports), for the Conv that reads it.
    case padded(Int, top: Int, left: Int, bottom: Int, right: Int)
}

enum ONNXLayout: Equatable {
    /// [1, C, H, W]
    case nchw
    /// [1, H, W, C]
    case nhwc
    /// [1, C] (a map of one pixel)
    case vector
    /// [C]: a map of one pixel with the batch axis squeezed away too
    case channels
    /// [1, 1, C]: a one-pixel map seen as a sequence of C (Efficient Channel Attention's Conv1d over channels)
    case sequence
    /// [1, C, 1]: a one-pixel map between two Unsqueezes
    case column

    var channelAxis: Int {
        switch self {
        case .nhwc: return 3
        case .channels: return 0
        case .sequence: return 2
        default: return 1
        }
    }
    var rank: Int {
        switch self {
        case .vector: return 2
        case .channels: return 1
        case .sequence, .column: return 3
        default: return 4
        }
    }
    var spatialAxes: [Int] { self == .nhwc ? [1, 2] : self == .nchw ? [2, 3] : [] }

    /// The ONNX dims of a value of `shape` in this layout.
    func dims(_ s: Shape) -> [Int] {
        switch self {
        case .nchw: return [1, s.channels, s.height, s.width]
        case .nhwc: return [1, s.height, s.width, s.channels]
        case .vector: return [1, s.channels]
        case .channels: return [s.channels]
        case .sequence: return [1, 1, s.channels]
        case .column: return [1, s.channels, 1]
        }
    }

    /// The layout of a one-pixel map of `channels` channels seen with `dims`, if any.
    static func ofPixel(dims: [Int], channels c: Int) -> ONNXLayout? {
        switch dims {
        case [c]: return .channels
        case [1, c]: return .vector
        case [1, c, 1, 1]: return .nchw
        case [1, 1, 1, c]: return .nhwc
        case [1, 1, c]: return .sequence
        case [1, c, 1]: return .column
        default: return nil
        }
    }
}
