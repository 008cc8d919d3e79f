/// The op graph of a model: a list of nodes in execution order. Each node reads earlier values and
/// produces exactly one new value; value 0 is the input image and value i + 1 is node i's output,
/// so a graph cannot contain a cycle by construction.
/// Each kind's fields and weights: OpParams.
public enum OpKind: UInt32, Sendable, CaseIterable {
    case conv = 1
    case depthwiseConv = 2
    case layerNorm = 3
    case add = 4
    case concat = 5
    case maxPool = 6
    case avgPool = 7
    case globalAvgPool = 8
    case eca = 9
    case channelAffine = 10
    case activation = 11
    case quantize = 12
    case quantizedConv = 13
    case quantizedDepthwiseConv = 14
    case channelScale = 15
    case channelSlice = 16
    case channelShuffle = 17
}

/// An activation value stored as uint8: real = scale * (q - zero).
public struct QuantParams: Sendable, Equatable {
    public var scale: Float
    public var zero: Int32

    public init(scale: Float, zero: Int32) {
        self.scale = scale
        self.zero = zero
    }
}

/// Activation codes shared with the kernels (mlrc_activation in mlrc_kernels.h).
public enum Activation: Int32, Sendable, CaseIterable {
    case none = 0, relu = 1, relu6 = 2, gelu = 3, sigmoid = 4, hardswish = 5, hardsigmoid = 6, silu = 7

    /// Whether an int8 output applies it through a 256-entry table (ReLU and ReLU6 are a clamp of the codes).
    public var isTable: Bool { self != .none && self != .relu && self != .relu6 }

    /// Whether the code names a table activation.
    public static func isTable(_ raw: Int32) -> Bool { Activation(rawValue: raw)?.isTable ?? false }
}

public struct Node: Sendable, Equatable {
    public var op: OpKind
    public var inputs: [Int]
    /// Indices into the model's tensor table; `Node.absent` marks an optional tensor left out.
    public var weights: [Int]
    public var ints: [Int32]
    public var floats: [Float]

    public static let absent = Int(UInt32.max)

    public init(op: OpKind, inputs: [Int], weights: [Int] = [], ints: [Int32] = [], floats: [Float] = []) {
        self.op = op
        self.inputs = inputs
        self.weights = weights
        self.ints = ints
        self.floats = floats
    }
}

/// Shape of an activation (batch 1, NHWC).
public struct Shape: Sendable, Equatable, CustomStringConvertible {
    public var height: Int
    public var width: Int
    public var channels: Int

    public init(height: Int, width: Int, channels: Int) {
        self.height = height
        self.width = width
        self.channels = channels
    }

    public var count: Int { height * width * channels }
    public var pixels: Int { height * width }
    public var description: String { "\(height)x\(width)x\(channels)" }
}

/// Where and what a stored tensor is.
public struct TensorInfo: Sendable, Equatable {
    public var dtype: TensorDType
    public var dims: [Int]
    /// Absolute offset of the data in the file, and its byte size.
    public var offset: Int
    public var byteSize: Int

    public var elementCount: Int { dims.reduce(1, *) }
}

/// How to turn a photo into the network's input: resize the shorter side, center-crop, normalise (or, without
/// the crop, resize the whole photo to the input size).
public struct Preprocessing: Sendable, Equatable {
    /// The resize filter, antialiased as PIL's (torchvision's Resize on a PIL image).
    public enum Interpolation: UInt32, Sendable, CaseIterable {
        case bilinear = 0
        case bicubic = 1
        public var name: String { self == .bilinear ? "bilinear" : "bicubic" }

        /// The filter a name ("bilinear", "bicubic") stands for; nil for any other.
        public init?(name: String) {
            guard let i = Self.allCases.first(where: { $0.name == name }) else { return nil }
            self = i
        }
    }

    public var resizeShorterSide: Int
    public var cropHeight: Int
    public var cropWidth: Int
    public var mean: [Float]
    public var std: [Float]
    public var interpolation: Interpolation
    /// false: the whole photo is resized to cropWidth x cropHeight (aspect ratio not kept), no crop.
    public var centerCrop: Bool

    public init(
        resizeShorterSide: Int, cropHeight: Int, cropWidth: Int, mean: [Float], std: [Float],
        interpolation: Interpolation = .bilinear, centerCrop: Bool = true
    ) {
        self.resizeShorterSide = resizeShorterSide
        self.cropHeight = cropHeight
        self.cropWidth = cropWidth
        self.mean = mean
        self.std = std
        self.interpolation = interpolation
        self.centerCrop = centerCrop
    }

    /// The preprocessing as one JSON object (mlrc_model_preprocessing, mlrc-infer --print-preprocessing).
    public var json: String {
        func list(_ v: [Float]) -> String { "[" + v.map { "\($0)" }.joined(separator: ", ") + "]" }
        let resize = centerCrop ? "\(resizeShorterSide)" : "null"
        return "{\"resize\": \(resize), \"crop\": \(centerCrop), \"height\": \(cropHeight), \"width\": \(cropWidth), "
            + "\"interpolation\": \"\(interpolation.name)\", \"mean\": \(list(mean)), \"std\": \(list(std))}"
    }

    public static let imagenet = Preprocessing(
        resizeShorterSide: 256, cropHeight: 224, cropWidth: 224,
        mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])
}

/// Everything a model file says apart from the tensor bytes.
public struct ModelDescription: Sendable {
    public var architecture: String
    public var inputShape: Shape
    public var preprocessing: Preprocessing
    public var labels: [String]
    public var tensors: [TensorInfo]
    public var nodes: [Node]
    /// The value holding the logits (normally the last node's).
    public var outputValue: Int

    public init(
        architecture: String, inputShape: Shape, preprocessing: Preprocessing, labels: [String],
        tensors: [TensorInfo], nodes: [Node], outputValue: Int
    ) {
        self.architecture = architecture
        self.inputShape = inputShape
        self.preprocessing = preprocessing
        self.labels = labels
        self.tensors = tensors
        self.nodes = nodes
        self.outputValue = outputValue
    }
}
