#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif
import MLRCConvert
import MLRCRuntime

/// Fuzz targets for the readers of untrusted files. Each takes arbitrary bytes and must only ever
/// return or throw: any trap, out-of-bounds access or leak is a bug.
///
/// Built two ways: normally, a replay tool (`mlrc-fuzz TARGET FILE...`) that runs corpus files through
/// a target (CI uses it as a regression test); with `-DFUZZING -sanitize=fuzzer,address`, the libFuzzer
/// entry point, the target chosen by $MLRC_FUZZ_TARGET (`make fuzz`).
enum FuzzTargets {
    static let names = ["model", "checkpoint", "jpeg", "onnx", "pickle"]

    static func run(_ target: String, _ bytes: UnsafeRawBufferPointer) {
        switch target {
        case "model":
            // The .mlrc reader and graph validator; a model that opens must also run.
            guard let model = try? Model(copying: bytes), let session = try? Session(model: model, threads: 1) else {
                return
            }
            if model.inputShape.count <= 3 * 64 * 64 {
                var input = [Float](repeating: 0.5, count: model.inputShape.count)
                var logits = [Float](repeating: 0, count: model.numClasses)
                input.withUnsafeMutableBufferPointer { i in
                    logits.withUnsafeMutableBufferPointer { session.run(nchw: i.baseAddress!, logits: $0.baseAddress!) }
                }
            }
        case "checkpoint":
            // zip / legacy pickle / safetensors, then architecture recognition on whatever was found.
            if let sd = try? StateDict.parse(Array(bytes)) {
                _ = try? ArchitectureRecognizer.build(sd, options: BuildOptions())
            }
        case "pickle":
            // Structure-aware: the bytes are a program of pickle instructions (PickleProgram), packed as a zip
            // checkpoint, then read and recognised like any checkpoint.
            let file = PickleProgram.checkpoint(from: bytes)
            if let sd = try? StateDict.parse(file) {
                _ = try? ArchitectureRecognizer.build(sd, options: BuildOptions())
            }
        case "onnx":
            // The protobuf reader and graph import; a graph that imports is written out, read back and run.
            guard
                let imported = try? ONNXImporter.parse(
                    Array(bytes), directory: "/nonexistent", options: BuildOptions(), maxTensorBytes: 64 << 20)
            else { return }
            let net = imported.network
            guard let file = try? ModelWriter.serialize(net, labels: (0..<net.numClasses).map { "c\($0)" }),
                let model = file.withUnsafeBytes({ try? Model(copying: $0) }),
                model.inputShape.count <= 3 * 64 * 64, let session = try? Session(model: model, threads: 1)
            else { return }
            var input = [Float](repeating: 0.5, count: model.inputShape.count)
            var logits = [Float](repeating: 0, count: model.numClasses)
            input.withUnsafeMutableBufferPointer { i in
                logits.withUnsafeMutableBufferPointer { session.run(nchw: i.baseAddress!, logits: $0.baseAddress!) }
            }
        case "jpeg":
            // libjpeg through the shim, then preprocessing, as mlrc_classify_jpeg does.
            guard let image = try? RGBImage(jpeg: bytes) else { return }
            var out = [Float](repeating: 0, count: 3 * 32 * 32)
            var spec = Preprocessing.imagenet
            spec.resizeShorterSide = 36
            spec.cropHeight = 32
            spec.cropWidth = 32
            try? Preprocessor.preprocess(
                rgb: image.pixels, width: image.width, height: image.height,
                rowStride: 3 * image.width, spec: spec, into: &out)
        default:
            break
        }
    }
}

#if FUZZING
    nonisolated(unsafe) var fuzzTarget: String = {
        guard let t = getenv("MLRC_FUZZ_TARGET") else { return "model" }
        return String(cString: t)
    }()

    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
        Preprocessor.maxPixels = 4 << 20  // keep fuzzing fast; the limit itself is tested elsewhere
        // Mutations would almost never pass the CRC; skipping it lets the fuzzer reach the structural
        // validation, which must hold even for a file whose checksum was recomputed after tampering.
        ModelFileReader.verifyChecksum = false
        FuzzTargets.run(fuzzTarget, UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size))
        return 0
    }

    @_silgen_name("LLVMFuzzerRunDriver")
    func LLVMFuzzerRunDriver(
        _ argc: UnsafeMutablePointer<Int32>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
        _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
    ) -> Int32

    /// SwiftPM links an executable's entry point under this name; hand control to libFuzzer's driver.
    @_cdecl("mlrc_fuzz_main")
    public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
        var count = argc
        var vector = argv
        return LLVMFuzzerRunDriver(&count, &vector, fuzzOne)
    }
#else
    @main
    struct Replay {
        static func main() {
            let args = Array(CommandLine.arguments.dropFirst())
            guard let target = args.first, FuzzTargets.names.contains(target) else {
                fputs("usage: mlrc-fuzz \(FuzzTargets.names.joined(separator: "|")) FILE...\n", stderr)
                exit(2)
            }
            var count = 0
            for path in args.dropFirst() {
                guard let bytes = try? FileBytes.read(path) else { fputs("cannot read \(path)\n", stderr); exit(2) }
                bytes.withUnsafeBytes { FuzzTargets.run(target, $0) }
                // MLRC_FUZZ_DUMP=DIR: the checkpoints a pickle program packs, to read with quantize or torch.load.
                if target == "pickle", let dir = getenv("MLRC_FUZZ_DUMP") {
                    let file = bytes.withUnsafeBytes { PickleProgram.checkpoint(from: $0) }
                    let name = String(path.split(separator: "/").last ?? "input")
                    try? FileBytes.write(String(cString: dir) + "/" + name + ".pth", file)
                }
                count += 1
            }
            print("mlrc-fuzz \(target): \(count) inputs replayed, no crash")
        }
    }
#endif
