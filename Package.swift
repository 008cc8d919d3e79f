// swift-tools-version:5.9
// mlrc: int8/fp32 inference runtime for lightweight image-classification CNNs.
import Foundation
import PackageDescription

// The kernels' optimisation flags, shared with the Makefile's C builds (tools/kernel-flags), so the static library
// and the test programs it builds run the same code as libmlrc.so.
let kernelFlags =
    ((try? String(contentsOfFile: Context.packageDirectory + "/tools/kernel-flags", encoding: .utf8)) ?? "-O3")
    .split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)

// OpenMP comes from Debian's libomp-dev (LLVM 14's runtime). Kernels use static schedules only,
// because clang 21 emits __kmpc_dispatch_deinit for dynamic ones, which libomp 14 lacks.
let ompInclude = "/usr/lib/llvm-14/lib/clang/14.0.6/include"
let ompLib = "/usr/lib/llvm-14/lib"

let package = Package(
    name: "mlrc",
    products: [
        .library(name: "mlrc", type: .dynamic, targets: ["MLRCCAPI"]),
        .executable(name: "mlrc-infer", targets: ["mlrc-infer"]),
        .executable(name: "quantize", targets: ["quantize"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0")
    ],
    targets: [
        // C kernels: operators/ (tables, threads) over ukernels/ (one family per folder, each beside its reference) over
        // common/ (CPU features, shared scalar and SIMD helpers). Layers and checklists: docs/ARCHITECTURE.md.
        .target(
            name: "CMLRCKernels",
            cSettings: [
                .headerSearchPath("common"),
                .unsafeFlags(kernelFlags + ["-fopenmp", "-I\(ompInclude)"]),
            ],
            linkerSettings: [
                .unsafeFlags(["-L\(ompLib)", "-Xlinker", "-rpath", "-Xlinker", ompLib]),
                .linkedLibrary("omp"),
                .linkedLibrary("m"),
            ]
        ),
        // libjpeg behind a setjmp error manager (libjpeg's default handler calls exit()).
        .target(
            name: "CJPEGShim",
            cSettings: [.unsafeFlags(["-O2"])],
            linkerSettings: [.linkedLibrary("jpeg")]
        ),
        // include/mlrc.h as a module: the status codes and mlrc_prediction come from the header itself.
        .systemLibrary(name: "CMLRCABI", path: "Sources/CMLRCABI"),
        // Model file reader, graph executor, preprocessing. No Foundation.
        .target(name: "MLRCRuntime", dependencies: ["CMLRCKernels", "CJPEGShim", "CMLRCABI"]),
        // Checkpoint readers, architecture recognition, graph building, the .mlrc writer (used by quantize).
        .target(name: "MLRCConvert", dependencies: ["MLRCRuntime", "CMLRCKernels"]),
        // The C ABI (include/mlrc.h), exported with @_cdecl.
        .target(name: "MLRCCAPI", dependencies: ["MLRCRuntime", "CMLRCABI", "CMLRCKernels"]),
        .executableTarget(
            name: "mlrc-infer",
            dependencies: [
                "MLRCRuntime", "CMLRCKernels", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "quantize",
            dependencies: ["MLRCConvert", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // Fuzz targets for the model, checkpoint and JPEG readers: a corpus replayer normally, libFuzzer with -DFUZZING.
        .executableTarget(name: "mlrc-fuzz", dependencies: ["MLRCConvert", "MLRCRuntime"]),
        .testTarget(name: "MLRCTests", dependencies: ["MLRCConvert", "MLRCRuntime", "CMLRCKernels"]),
    ]
)
