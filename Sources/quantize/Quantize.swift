#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif
import ArgumentParser
import MLRCConvert
import MLRCRuntime

@main
struct Quantize: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract:
            "Convert a PyTorch (.pth/.pt), safetensors or ONNX (.onnx) model into an .mlrc model file (int8 by default).",
        discussion: """
            The architecture (MLRC-ConvNeXt, ConvNeXt, HSNet, EfficientNet-Lite, and torchvision's and timm's \
            ResNet, ResNeXt, SE-ResNet, DenseNet, MobileNet v1/v2/v3, ShuffleNetV2, GhostNet, EfficientNet, MnasNet, \
            RegNet, SqueezeNet, VGG; `--list-archs` prints them all) and its size are recognised from the parameter \
            names and shapes, with any number of classes; BatchNorm and layer scales are folded into the weights. \
            int8: weights per output channel, activations calibrated on real photos (--calib DIR: a few hundred of \
            your own training or validation images, every class; without it the generic photos bundled with mlrc, \
            which suit ImageNet classifiers only); layers whose quantization noise is too high stay in fp32. An ONNX \
            file is read as its graph (any CNN classifier built from the ops docs/ONNX.md lists). Give the \
            validation transform the model was trained with (--mean/--std/--resize/--crop/--interpolation/--no-crop) \
            when it is not ImageNet's bilinear resize to crop / 0.875 and centre crop; it is stored in the model. \
            A checkpoint written by tools/train.py carries its architecture, class names, preprocessing and \
            training images, so it converts with no flags (flags given still take precedence).
            """)

    @Argument(
        help:
            "The checkpoint (a state_dict, or a training checkpoint holding one under model/model_ema/state_dict) or ONNX model."
    )
    var checkpoint: String?

    @Flag(name: .customLong("list-archs"), help: "Print every family and size --arch accepts, and exit.")
    var listArchs = false

    @Option(name: .shortAndLong, help: "Output file (default: the checkpoint's name with .mlrc).")
    var output: String?

    @Option(
        help:
            "Architecture, when the names do not tell (resnet18, mobilenet_v3_large, tf_efficientnet_lite0, ...: see --list-archs)."
    )
    var arch: String?

    @Option(help: "int8 or fp32.")
    var precision: String = "int8"

    @Option(
        help: ArgumentHelp(
            "Folder of JPEG calibration images, any size; its subfolders (an ImageFolder's classes) are taken in turn.",
            discussion:
                "Default: the training images a tools/train.py checkpoint names, else the photos bundled with mlrc."))
    var calib: String?

    @Option(
        name: .customLong("calib-limit"), help: "Use at most this many calibration images (spread over the subfolders)."
    )
    var calibLimit: Int = 256

    @Option(help: "Activation range: minmax, percentile, entropy or mse.")
    var calibration: String = QuantizeOptions().method.rawValue

    @Flag(help: "Print each layer's int8-vs-fp32 SQNR and the final top-1 agreement and logit cosine.")
    var report = false

    @Option(
        name: .customLong("keep-fp32"), parsing: .upToNextOption,
        help: "Convolutions to keep in fp32, by checkpoint module name (as --report lists them).")
    var keepFP32: [String] = []

    @Option(
        name: .customLong("sqnr-threshold"),
        help: "Layers adding noise above this level (local SQNR under it, dB) stay fp32 ...")
    var sqnrThreshold: Double = QuantizeOptions().sqnrThreshold

    @Option(
        name: .customLong("target-cosine"),
        help: "... while the mean logit cosine against fp32 on the calibration images is under this.")
    var targetCosine: Double = QuantizeOptions().targetCosine

    @Flag(name: .customLong("no-fallback"), help: "Quantize every convolution, whatever its SQNR.")
    var noFallback = false

    @Flag(name: .customLong("no-bias-correction"), help: "Do not correct the output mean shift of rounded weights.")
    var noBiasCorrection = false

    @Flag(
        name: .customLong("full-weights"),
        help:
            "Give every weight all 8 bits: no layer is kept inside the pair bound that AVX2 CPUs without VNNI run faster (by default a layer is, where that measured no worse)."
    )
    var fullWeights = false

    @Option(
        name: .customLong("pair-tolerance"),
        help:
            "dB of local SQNR a layer may lose to weights inside the pair bound (0 keeps all 8 bits where it costs anything)."
    )
    var pairTolerance: Double = QuantizeOptions().pairBoundTolerance

    @Option(help: "Class names, one per line (default: ImageNet names for 1000 classes, else class_N).")
    var labels: String?

    @Option(name: .customLong("input-size"), help: "Square input size (default: the net's own, 224 for most).")
    var inputSize: Int?

    @Option(help: "Per-channel mean subtracted from RGB in [0, 1], as R,G,B (default ImageNet's 0.485,0.456,0.406).")
    var mean: String?

    @Option(help: "Per-channel standard deviation, as R,G,B (default ImageNet's 0.229,0.224,0.225).")
    var std: String?

    @Option(help: "Resize the shorter side of a photo to this before the centre crop (default: crop / 0.875).")
    var resize: Int?

    @Option(help: "Centre-crop size: the network's input (the same as --input-size).")
    var crop: Int?

    @Option(help: "Resize filter: bilinear (the default, torchvision's) or bicubic (timm's usual).")
    var interpolation: String?

    @Flag(
        name: .customLong("no-crop"),
        help: "Resize the whole photo to the input size (aspect ratio not kept) instead of resize + centre crop.")
    var noCrop = false

    @Option(
        name: .customLong("max-tensor-memory"),
        help: "GiB the checkpoint's tensors may take as fp32 (default 1; never more than four times the file).")
    var maxTensorMemory: Double = 1

    @Option(
        name: .customLong("stage-shortcut"), help: "on|off: the MLRC stage-level shortcut (default: on for MLRC nets).")
    var stageShortcut: String?

    func validate() throws {
        if checkpoint == nil && !listArchs { throw ValidationError("Missing expected argument '<checkpoint>'") }
        guard Converter.Precision(rawValue: precision) != nil else {
            throw ValidationError("--precision must be int8 or fp32")
        }
        guard CalibrationMethod(rawValue: calibration) != nil else {
            throw ValidationError(
                "--calibration must be one of \(CalibrationMethod.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let s = stageShortcut, s != "on", s != "off" { throw ValidationError("--stage-shortcut must be on or off") }
        if let n = inputSize, n < 32 || n > 2048 { throw ValidationError("--input-size must be in 32...2048") }
        guard maxTensorMemory.isFinite, maxTensorMemory > 0, maxTensorMemory <= 1024 else {
            throw ValidationError("--max-tensor-memory must be in (0, 1024] GiB")
        }
        for (name, value) in [("--mean", mean), ("--std", std)] {
            guard let value else { continue }
            guard let v = Self.triple(value), name == "--mean" || v.allSatisfy({ $0 > 0 }) else {
                throw ValidationError(
                    "\(name) takes three numbers R,G,B\(name == "--std" ? " above 0" : ""), e.g. 0.5,0.5,0.5")
            }
        }
        if let c = crop {
            guard c >= 32 && c <= 2048 else { throw ValidationError("--crop must be in 32...2048") }
            if let n = inputSize, n != c { throw ValidationError("--crop \(c) and --input-size \(n) differ") }
        }
        if let i = interpolation, Preprocessing.Interpolation(name: i) == nil {
            throw ValidationError("--interpolation must be bilinear or bicubic")
        }
        if noCrop && resize != nil { throw ValidationError("--resize has no effect with --no-crop: give one of them") }
        if let r = resize, r < 32 || r > 8192 || r < (crop ?? inputSize ?? 32) {
            throw ValidationError("--resize must be in 32...8192 and at least the crop size")
        }
        guard calibLimit >= 1 else { throw ValidationError("--calib-limit must be at least 1") }
        guard sqnrThreshold.isFinite else { throw ValidationError("--sqnr-threshold must be a number") }
        guard pairTolerance.isFinite, pairTolerance >= 0 else {
            throw ValidationError("--pair-tolerance must be a number of dB, 0 or more")
        }
        guard targetCosine.isFinite, targetCosine >= -1, targetCosine <= 1.000001 else {
            throw ValidationError("--target-cosine must be in [-1, 1]")
        }
    }

    func run() throws {
        if listArchs {
            for family in Family.allCases {
                print("\(family.rawValue) (\(family.source)): \(family.names.joined(separator: " "))")
            }
            return
        }
        guard let checkpoint else { return }
        var options = BuildOptions(
            arch: arch, inputSize: inputSize ?? crop, stageShortcut: stageShortcut.map { $0 == "on" })
        options.mean = mean.flatMap(Self.triple)
        options.std = std.flatMap(Self.triple)
        options.resizeShorterSide = resize
        options.interpolation = interpolation.flatMap(Preprocessing.Interpolation.init(name:))
        options.centerCrop = noCrop ? false : nil
        let out = output ?? Self.defaultOutput(for: checkpoint)
        do { try FileBytes.checkWritable(out) } catch let e as MLRCError {
            throw ValidationErrorish(message: e.message)
        }
        let int8 = precision == "int8"
        var converter = Converter(options: options, precision: int8 ? .int8 : .fp32, labelsFile: labels)
        converter.maxTensorBytes = Int(maxTensorMemory * Double(1 << 30))
        if !int8 && calib != nil { print("note: --calib is used by int8 quantization only; ignored for fp32") }
        do {
            var outcome: QuantizationOutcome?
            let result = try converter.convert(checkpoint: checkpoint) { net, labels, metadata in
                guard int8 else { return try ModelWriter.serialize(net, labels: labels) }
                let o = try quantizeInt8(net, labels: labels, trainingImages: metadata?.calibration)
                outcome = o
                return o.bytes
            }
            try FileBytes.write(out, result.bytes)
            print("read \(result.checkpointTensors) tensors from \(result.origin) of \(checkpoint)")
            print("recognised \(result.network.summary)")
            for n in result.notes { print("note: \(n)") }
            print("labels: \(result.labelSource)")
            if let o = outcome { printSummary(o) }
            print("wrote \(out) (\(precision), \(result.bytes.count) bytes)")
        } catch let e as MLRCError {
            throw ValidationErrorish(message: e.message)
        }
    }

    private func quantizeInt8(
        _ net: BuiltNetwork, labels: [String], trainingImages: String?
    ) throws
        -> QuantizationOutcome
    {
        _ = try Quantizer.layers(named: keepFP32, in: net)
        let dir: String
        if let calib {
            dir = calib
        } else if let trainingImages, JPEGNames.entries(of: trainingImages) != nil {
            dir = trainingImages
            print("calibration: no --calib given, using the training images the checkpoint names, in \(trainingImages)")
        } else if let bundled = BundledPhotos.directory() {
            dir = bundled
            if let trainingImages {
                print("calibration: the training images the checkpoint names (\(trainingImages)) are not here")
            }
            print("calibration: no --calib given, using the real photos bundled with mlrc in \(bundled)")
            if net.numClasses != 1000 {
                print(
                    "warning: this model has \(net.numClasses) classes, not ImageNet's 1000, but is calibrated on "
                        + "generic photos; int8 ranges fit the images a model sees best: pass --calib DIR with a few "
                        + "hundred of your own training or validation images (every class, as the camera takes them)")
            }
        } else {
            throw MLRCError.argument("no --calib DIR given and the bundled calibration photos were not found")
        }
        let files = try CalibrationSet.jpegFiles(in: dir, limit: calibLimit)
        guard !files.isEmpty else { throw MLRCError.argument("\(dir) holds no .jpg/.jpeg files") }
        let bar = ProgressBar()
        let set = try CalibrationSet.load(
            files: files, preprocessing: net.preprocessing, inputShape: net.builder.shape(0)
        ) {
            bar.show("reading photos", $0, $1)
        }
        for s in set.skipped { print("calibration: skipped \(s.file): \(s.reason)") }
        print("calibration: \(set.inputs.count) images from \(dir), \(calibration) ranges")
        var q = QuantizeOptions()
        q.method = CalibrationMethod(rawValue: calibration) ?? q.method
        q.keepFP32 = keepFP32
        q.sqnrThreshold = sqnrThreshold
        q.targetCosine = targetCosine
        q.autoFallback = !noFallback
        q.biasCorrection = !noBiasCorrection
        q.pairBoundWeights = !fullWeights
        q.pairBoundTolerance = pairTolerance
        if !net.importedActivations.isEmpty || !net.importedWeightScales.isEmpty {
            // A model quantized elsewhere (QDQ): its own scales, and none of the corrections ONNX Runtime does not make.
            q.importedActivations = net.importedActivations
            q.importedWeightScales = net.importedWeightScales
            q.biasCorrection = false
            q.autoFallback = false
            q.pairBoundWeights = false  // its weights are rounded with its own scales, as ONNX Runtime rounds them
            print(
                "QDQ model: using its \(net.importedActivations.count) activation scales and the weight scales of "
                    + "\(net.importedWeightScales.count) convolutions; calibration only covers values it does not quantize"
            )
        }
        return try Quantizer.quantize(net, labels: labels, images: set.inputs, options: q) { bar.show($0, $1, $2) }
    }

    private func printSummary(_ o: QuantizationOutcome) {
        let f = o.fidelity
        if report {
            print(
                "per layer, int8 vs fp32 on the \(f.images) calibration images (SQNR: accumulated / added by the layer):"
            )
            print("  " + "layer".padding(36) + "precision     SQNR dB   local dB")
            for l in f.layers {
                let precision = l.quantized ? (o.pairBounded.contains(l.node) ? "int8 pairs" : "int8") : "fp32"
                print(
                    "  " + l.name.padding(36) + precision.padding(12)
                        + fixed(l.sqnr).leftPadding(8) + fixed(l.localSQNR).leftPadding(11))
            }
        }
        print("int8: \(o.quantizedLayers) of \(o.totalLayers) convolutions in int8; \(o.kept.count) kept in fp32")
        for k in o.kept { print("  kept fp32: \(k.name) (\(k.reason))") }
        if o.pairBoundCandidates > 0 {
            print(
                "weights: \(o.pairBounded.count) of \(o.pairBoundCandidates) int8 general convolutions inside the pair "
                    + "bound (AVX2 sums their products in 16 bits), the rest all 8 bits")
        }
        print(
            "fidelity on the \(f.images) calibration images: top-1 agreement \(fixed(100 * f.top1Agreement))%, "
                + "logit cosine mean \(fixed(f.meanCosine, 4)) (min \(fixed(f.minCosine, 4)))")
    }

    /// "a,b,c" as three finite numbers.
    static func triple(_ s: String) -> [Float]? {
        let v = s.split(separator: ",").compactMap { Float($0.filter { $0 != " " }) }
        return v.count == 3 && v.allSatisfy(\.isFinite) && s.split(separator: ",").count == 3 ? v : nil
    }

    static func defaultOutput(for path: String) -> String {
        let slash = path.lastIndex(of: "/")
        let nameStart = slash.map { path.index(after: $0) } ?? path.startIndex
        if let dot = path[nameStart...].lastIndex(of: "."), dot != nameStart {
            return String(path[..<dot]) + ".mlrc"
        }
        return path + ".mlrc"
    }
}

/// An error printed as "Error: message" with exit code 1.
struct ValidationErrorish: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

extension String {
    func padding(_ n: Int) -> String { count >= n ? self + " " : self + String(repeating: " ", count: n - count) }
    func leftPadding(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
