/// The network families quantize builds, the --arch names of each, and the parameter names that identify a
/// family's checkpoints (docs/ARCHITECTURES.md). Recognition tries them in this order.
public enum Family: String, CaseIterable {
    case mlrcConvnext = "mlrc_convnext", convnext, hsnet
    case efficientnetLite = "efficientnet_lite"
    case resnet, densenet
    case mobilenetV2 = "mobilenet_v2", mobilenetV3 = "mobilenet_v3", shufflenetV2 = "shufflenet_v2"
    case mnasnet, efficientnet, regnet, squeezenet, vgg, ghostnet
    case timmEfficientNet = "timm_efficientnet"

    /// The sizes --arch names (and --list-archs prints), and where such checkpoints come from.
    public var names: [String] {
        switch self {
        case .mlrcConvnext: return ["mlrc_atto", "mlrc_femto", "mlrc_pico", "mlrc_nano", "mlrc_tiny"]
        case .convnext:
            return [
                "convnext_atto", "convnext_femto", "convnext_pico", "convnext_nano", "convnext_tiny", "convnext_small",
                "convnext_base",
            ]
        case .hsnet: return ["hsnet"]
        case .efficientnetLite: return (0...4).map { "efficientnet_lite\($0)" }
        case .resnet:
            return [
                "resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnext50_32x4d", "resnext101_32x8d",
                "resnext101_64x4d", "wide_resnet50_2", "wide_resnet101_2", "seresnet18", "seresnet34", "seresnet50",
                "seresnet101", "seresnet152",
            ]
        case .densenet: return ["densenet121", "densenet161", "densenet169", "densenet201"]
        case .mobilenetV2: return ["mobilenet_v2"]
        case .mobilenetV3: return ["mobilenet_v3_small", "mobilenet_v3_large"]
        case .shufflenetV2:
            return ["shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "shufflenet_v2_x1_5", "shufflenet_v2_x2_0"]
        case .mnasnet: return ["mnasnet0_5", "mnasnet0_75", "mnasnet1_0", "mnasnet1_3"]
        case .efficientnet: return (0...7).map { "efficientnet_b\($0)" }
        case .regnet:
            return ["400mf", "800mf", "1_6gf", "3_2gf", "8gf", "16gf", "32gf"].flatMap {
                ["regnet_x_\($0)", "regnet_y_\($0)"]
            }
        case .squeezenet: return ["squeezenet1_0", "squeezenet1_1"]
        case .vgg: return [11, 13, 16, 19].flatMap { ["vgg\($0)", "vgg\($0)_bn"] }
        case .ghostnet: return ["ghostnet_050", "ghostnet_100", "ghostnet_130"]
        case .timmEfficientNet:
            return ["mobilenetv1_100"] + (0...4).flatMap { ["efficientnet_lite\($0)", "tf_efficientnet_lite\($0)"] }
                + (0...3).map { "efficientnet_b\($0)" }
        }
    }

    public var source: String {
        switch self {
        case .mlrcConvnext: return "MLRC paper code (official ConvNeXt naming or timm's)"
        case .convnext: return "official ConvNeXt code, torchvision, timm (both MLP layouts)"
        case .hsnet: return "HSNet paper code"
        case .efficientnetLite: return "efficientnet_lite_pytorch (lukemelas naming: _conv_stem, _blocks)"
        case .resnet: return "torchvision (ResNet, ResNeXt, Wide ResNet), timm (ResNet, SE-ResNet)"
        case .densenet, .mobilenetV2, .mobilenetV3, .shufflenetV2, .mnasnet, .efficientnet, .regnet, .squeezenet, .vgg:
            return "torchvision"
        case .ghostnet: return "timm"
        case .timmEfficientNet: return "timm (MobileNetV1, EfficientNet-Lite and its tf_ ports, EfficientNet)"
        }
    }

    /// Parameter names every checkpoint of the family has.
    public var signature: [String] {
        switch self {
        case .mlrcConvnext, .convnext: return ["downsample_layers.0.0.weight"]
        case .hsnet: return ["stem.sep.dw.weight"]
        case .efficientnetLite: return ["_conv_stem.weight", "_blocks.0._depthwise_conv.weight"]
        case .resnet: return ["conv1.weight", "bn1.running_mean", "layer1.0.conv1.weight"]
        case .densenet: return ["features.conv0.weight", "features.denseblock1.denselayer1.conv1.weight"]
        case .mobilenetV2: return ["features.0.0.weight", "features.1.conv.0.0.weight"]
        case .mobilenetV3: return ["features.0.0.weight", "features.1.block.0.0.weight"]
        case .shufflenetV2: return ["conv1.0.weight", "stage2.0.branch1.0.weight"]
        case .mnasnet: return ["layers.0.weight", "layers.8.0.layers.0.weight"]
        case .efficientnet: return ["features.0.0.weight", "features.1.0.block.0.0.weight"]
        case .regnet: return ["stem.0.weight", "trunk_output.block1.block1-0.f.a.0.weight"]
        case .squeezenet: return ["features.0.weight", "features.3.squeeze.weight"]
        case .vgg: return ["features.0.weight", "classifier.0.weight"]
        case .ghostnet: return ["conv_stem.weight", "blocks.0.0.ghost1.primary_conv.0.weight"]
        case .timmEfficientNet: return ["conv_stem.weight", "blocks.0.0.conv_dw.weight"]
        }
    }

    /// Whether a checkpoint's names are this family's.
    func matches(_ sd: StateDict) -> Bool {
        switch self {
        case .mlrcConvnext, .convnext:
            let convnext =
                sd.has("downsample_layers.0.0.weight")
                || sd.has("stem.0.weight") && sd.has("stages.0.blocks.0.conv_dw.weight")
                || TorchvisionConvNeXtNames.isTorchvision(sd)
            let strips = sd.tensors.keys.contains { $0.hasSuffix("dwconv_v.weight") }
            return convnext && strips == (self == .mlrcConvnext)
        case .hsnet: return sd.has("stem.sep.dw.weight") || sd.has("stages.0.0.het1.gwc.weight")
        default: return signature.allSatisfy(sd.has)
        }
    }

    /// Whether --arch NAME names this family: one of its sizes, or (for the paper families) any name with its
    /// prefix, as their sizes are open-ended.
    func accepts(_ arch: String) -> Bool {
        if names.contains(arch) { return true }
        switch self {
        case .mlrcConvnext: return arch.hasPrefix("mlrc")
        case .convnext: return arch.hasPrefix("convnext")
        case .hsnet: return arch.hasPrefix("hsnet")
        default: return arch == rawValue
        }
    }
}
