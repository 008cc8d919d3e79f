// swift-tools-version:5.9
// mlrc: int8/fp32 inference runtime for lightweight image-classification CNNs.
import Foundation
import PackageDescription

// The kernels' optimisation flags, shared with the Makefile's C builds (tools/kernel-flags), so the static library
// and the test programs it builds run the same code as libmlrc.so.
let kernelFlags =
    ((try? String(contentsOfFile: Context.packageDirectory + "/tools/kernel-flags", encoding: .utf8)) ?? "-O3")
    .split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)

// OpenMP: the headers and runtime of whatever LLVM the distribution's libomp-dev installed (LLVM 14 on Debian 12,
// 19 on Debian 13, 18 on Ubuntu 24.04), the newest when there are several; MLRC_OMP_INCLUDE and MLRC_OMP_LIB
// override. Kernels use static schedules only, because clang 21 emits __kmpc_dispatch_deinit for dynamic ones,
// which libomp before 19 lacks.
func openMP() -> (include: String, lib: String) {
    let env = ProcessInfo.processInfo.environment
    if let include = env["MLRC_OMP_INCLUDE"], let lib = env["MLRC_OMP_LIB"] { return (include, lib) }
    let files = FileManager.default
    let llvms = ((try? files.contentsOfDirectory(atPath: "/usr/lib")) ?? [])
        .filter { $0.hasPrefix("llvm-") }
        .compactMap { name -> (Int, String)? in Int(name.dropFirst(5)).map { ($0, "/usr/lib/" + name) } }
        .sorted { $0.0 > $1.0 }
    for (_, root) in llvms where files.fileExists(atPath: root + "/lib/libomp.so") {
        let clang = root + "/lib/clang"
        for version in (try? files.contentsOfDirectory(atPath: clang)) ?? []
        where files.fileExists(atPath: "\(clang)/\(version)/include/omp.h") {
            return ("\(clang)/\(version)/include", root + "/lib")
        }
    }
    for multiarch in ["x86_64-linux-gnu", "aarch64-linux-gnu"]
    where files.fileExists(atPath: "/usr/include/omp.h") && files.fileExists(atPath: "/usr/lib/\(multiarch)/libomp.so")
    {
        return ("/usr/include", "/usr/lib/" + multiarch)
    }
    // Not found: the build then fails on omp.h, and `make setup` installs libomp-dev.
    return ("/usr/include", "/usr/lib")
}
let (ompInclude, ompLib) = openMP()

// libmlrc.so's ABI: SONAME libmlrc.so.MAJOR (the major of MLRC_VERSION in include/mlrc.h) and only the header's
// functions exported (Sources/MLRCCAPI/exports.map).
let abiMajor: String = {
    let header = (try? String(contentsOfFile: Context.packageDirectory + "/include/mlrc.h", encoding: .utf8)) ?? ""
    let line = header.split(separator: "\n").first { $0.hasPrefix("#define MLRC_VERSION_MAJOR ") }
    return line.map { String($0.split(separator: " ").last!) } ?? "0"
}()
let abiFlags = [
    "-use-ld=lld",
    "-Xlinker", "-soname=libmlrc.so.\(abiMajor)",
    "-Xlinker", "--version-script=\(Context.packageDirectory)/Sources/MLRCCAPI/exports.map",
]

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
        .target(
            name: "MLRCCAPI", dependencies: ["MLRCRuntime", "CMLRCABI", "CMLRCKernels"],
            exclude: ["exports.map"], linkerSettings: [.unsafeFlags(abiFlags)]),
        .executableTarget(
            name: "mlrc-infer",
            dependencies: [
                "MLRCRuntime", "CMLRCKernels", "CMLRCABI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
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
