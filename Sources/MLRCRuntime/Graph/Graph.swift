/// The op graph of a model: a list of nodes in execution order. Each node reads earlier values and
/// produces exactly one new value; value 0 is the input image and value i + 1 is node i's output,
/// so a graph cannot contain a cycle by construction.
public enum OpKind: UInt32, Sendable, CaseIterable {
    /// ints: [kernelH, kernelW, strideH, strideW, padTop, padLeft, padBottom, padRight, groups, outChannels, act];
    /// weights: [filter [groups][kH*kW*Cin/groups][Cout/groups], bias [Cout]?]
    case conv = 1
    /// ints: [kernelH, kernelW, strideH, strideW, padTop, padLeft, padBottom, padRight, act];
    /// weights: [filter [kH][kW][C], bias [C]?]
    case depthwiseConv = 2
    /// floats: [eps]; weights: [] or [gamma [C], beta [C]]. With ints [zero] and floats [eps, scale] the output
    /// is quantized to uint8 in the same pass.
    case layerNorm = 3
    /// ints: [act]; two inputs of one shape
    case add = 4
    /// inputs of one spatial size, concatenated along channels; float32 output (uint8 inputs are dequantized)
    case concat = 5
    /// ints: [kernelH, kernelW, strideH, strideW, padTop, padLeft, padBottom, padRight]. On a uint8 input the output
    /// is uint8 with the same quantization (max commutes with quantization).
    case maxPool = 6
    /// ints: as maxPool, then countIncludePad
    case avgPool = 7
    case globalAvgPool = 8
    /// Efficient Channel Attention; weights: [kernel [k]]
    case eca = 9
    /// ints: [act]; weights: [scale [C], shift [C]]
    case channelAffine = 10
    /// ints: [act]
    case activation = 11
    /// float32 -> uint8: ints: [zero]; floats: [scale]
    case quantize = 12
    /// int8 convolution on a uint8 input. ints: [kernelH, kernelW, strideH, strideW, padTop, padLeft, padBottom,
    /// padRight, groups, outChannels] + output fields; floats: [output scale (uint8 output) or 0];
    /// weights: [packed int8 (mlrc_q8_pack_weights, one matrix per group), bias int32 [Cout]?, scale float32 [Cout],
    /// table uint8-as-int8 [256]?]
    case quantizedConv = 13
    /// int8 depthwise convolution. ints: the 8 window fields + output fields; floats: [output scale or 0];
    /// weights: [int8 [kH][kW][C], bias int32 [C]?, scale float32 [C], table [256]?]
    case quantizedDepthwiseConv = 14
}

/// The output fields that end the ints of an int8 convolution (mlrc_q8_output):
/// [kind (0 uint8, 1 float32), act (float32 output), zero (of the requantized value), lo, hi, output zero point].
/// With a table, the requantized value (zero) is the table's input and the output zero point its output's.
public enum QuantizedOutputFields {
    public static let count = 6
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
public enum Activation: Int32, Sendable {
    case none = 0, relu = 1, relu6 = 2, gelu = 3, sigmoid = 4
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

/// How to turn a photo into the network's input: resize the shorter side, center-crop, normalise.
public struct Preprocessing: Sendable, Equatable {
    public var resizeShorterSide: Int
    public var cropHeight: Int
    public var cropWidth: Int
    public var mean: [Float]
    public var std: [Float]

    public init(resizeShorterSide: Int, cropHeight: Int, cropWidth: Int, mean: [Float], std: [Float]) {
        self.resizeShorterSide = resizeShorterSide
        self.cropHeight = cropHeight
        self.cropWidth = cropWidth
        self.mean = mean
        self.std = std
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

    public init(architecture: String, inputShape: Shape, preprocessing: Preprocessing, labels: [String],
                tensors: [TensorInfo], nodes: [Node], outputValue: Int) {
        self.architecture = architecture
        self.inputShape = inputShape
        self.preprocessing = preprocessing
        self.labels = labels
        self.tensors = tensors
        self.nodes = nodes
        self.outputValue = outputValue
    }
}
