import MLRCConvert
import MLRCRuntime
import XCTest

/// Paths to Tests/Fixtures and helpers to read the PyTorch-made files there.
enum Fixtures {
    static let root: String = {
        var path = #filePath
        for _ in 0..<2 { path = String(path[..<path.lastIndex(of: "/")!]) }  // Tests/MLRCTests/X.swift -> Tests
        return path + "/Fixtures"
    }()

    struct Entry {
        var name: String
        var checkpoint: String
        var classes: Int
        /// --arch, for a fixture whose names do not tell (a tf_ port of TensorFlow weights)
        var arch: String?
    }

    /// The manifest's entries with a committed checkpoint (and with `onnx`, the committed ONNX models too).
    static func entries(onnx: Bool = false) throws -> [Entry] {
        let bytes = try FileBytes.read(root + "/manifest.json")
        guard case .array(let items) = try JSON.parse(bytes[...]) else { throw MLRCError.format("manifest") }
        return items.compactMap { item in
            guard case .string(let name)? = item["name"], case .string(let ckpt)? = item["checkpoint"],
                case .number(let classes)? = item["classes"], !ckpt.hasPrefix("download:")
            else { return nil }
            if case .bool(true)? = item["onnx_fixture"], !onnx { return nil }
            var arch: String? = nil
            if case .string(let a)? = item["arch"] { arch = a }
            return Entry(name: name, checkpoint: root + "/" + ckpt, classes: Int(classes), arch: arch)
        }
    }

    static func floats(_ path: String) throws -> [Float] {
        let b = try FileBytes.read(path)
        return stride(from: 0, to: b.count - 3, by: 4).map {
            Float(
                bitPattern: UInt32(b[$0]) | UInt32(b[$0 + 1]) << 8 | UInt32(b[$0 + 2]) << 16 | UInt32(b[$0 + 3]) << 24)
        }
    }

    /// A photo's PyTorch-preprocessed input, NCHW.
    static func input(_ photo: String) throws -> [Float] {
        let b = try FileBytes.read(root + "/inputs/\(photo).f16")
        return stride(from: 0, to: b.count - 1, by: 2).map {
            Float(Float16(bitPattern: UInt16(b[$0]) | UInt16(b[$0 + 1]) << 8))
        }
    }

    static func expected(_ name: String, _ photo: String) throws -> [Float] {
        try floats(root + "/expected/\(name).\(photo).f32")
    }

    /// max |a - b| / max |b|
    static func relativeError(_ a: [Float], _ b: [Float]) -> Float {
        let peak = b.map(abs).max() ?? 1
        return zip(a, b).map { abs($0 - $1) }.max().map { $0 / peak } ?? .infinity
    }

    static func model(_ bytes: [UInt8]) throws -> Model {
        try bytes.withUnsafeBytes { try Model(copying: $0) }
    }

    static func run(_ model: Model, threads: Int = 1, nchw: [Float]) throws -> [Float] {
        let session = try Session(model: model, threads: threads)
        var out = [Float](repeating: 0, count: model.numClasses)
        nchw.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { session.run(nchw: x.baseAddress!, logits: $0.baseAddress!) }
        }
        return out
    }
}
