// swift-tools-version:5.9
// mlrc: int8/fp32 inference runtime for lightweight image-classification CNNs.
import PackageDescription

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
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // C kernels: a portable reference for every op plus AVX2/FMA (x86) and NEON (AArch64) variants picked at run time.
        .target(
            name: "CMLRCKernels",
            cSettings: [
                .headerSearchPath("common"),
                .unsafeFlags(["-O3", "-fopenmp", "-I\(ompInclude)", "-fno-math-errno", "-ffp-contract=off"]),
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
        // Model file reader, graph executor, preprocessing. No Foundation.
        .target(name: "MLRCRuntime", dependencies: ["CMLRCKernels", "CJPEGShim"]),
        // Checkpoint readers, architecture recognition, graph building, the .mlrc writer (used by quantize).
        .target(name: "MLRCConvert", dependencies: ["MLRCRuntime", "CMLRCKernels"]),
        // The C ABI (include/mlrc.h), exported with @_cdecl.
        .target(name: "MLRCCAPI", dependencies: ["MLRCRuntime"]),
        .executableTarget(
            name: "mlrc-infer",
            dependencies: ["MLRCRuntime", .product(name: "ArgumentParser", package: "swift-argument-parser")]
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
