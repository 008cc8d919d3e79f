import MLRCRuntime

/// What a training script kept beside the weights, so that its checkpoint converts with no flags: the 'mlrc'
/// entry `tools/train.py` writes (architecture, class names, validation preprocessing, training images), or
/// the class names other scripts keep under 'classes' or 'class_to_idx'. Command-line flags take precedence.
public struct TrainingMetadata: Equatable {
    public var arch: String?
    public var stageShortcut: Bool?
    public var classes: [String]?
    public var inputSize: Int?
    public var resize: Int?
    public var mean: [Float]?
    public var std: [Float]?
    public var interpolation: Preprocessing.Interpolation?
    /// The training images, as the script saw them: quantize's calibration set when no --calib is given.
    public var calibration: String?
    /// Where in the checkpoint it was found, for messages.
    public var source: String

    /// The newest 'mlrc' entry format this reader understands.
    static let format = 1
    static let maxClasses = 1 << 20

    /// The metadata in a checkpoint's top-level dict; nil when it has none.
    static func read(_ root: PickleValue) throws -> TrainingMetadata? {
        guard case .dict(let top) = root else { return nil }
        if let entry = top["mlrc"] {
            guard case .dict(let d) = entry else { throw fail("is not a dict") }
            return try parse(d)
        }
        if let names = top["classes"], let classes = try? strings(names, "classes") {
            return TrainingMetadata(classes: classes, source: "the checkpoint's 'classes' entry")
        }
        if case .dict(let d)? = top["class_to_idx"], let classes = try? classesByIndex(d) {
            return TrainingMetadata(classes: classes, source: "the checkpoint's 'class_to_idx' entry")
        }
        return nil
    }

    init(classes: [String]? = nil, source: String) {
        self.classes = classes
        self.source = source
    }

    static func parse(_ d: PickleDict) throws -> TrainingMetadata {
        var m = TrainingMetadata(source: "the checkpoint's 'mlrc' entry")
        if let v = d["format"] {
            guard let f = v.int, f >= 1 else { throw fail("'format' must be a positive integer") }
            guard f <= format else {
                throw fail("has format \(f), newer than this quantize reads (\(format)): update mlrc")
            }
        }
        if let v = d["arch"], v.isPresent {
            guard let s = v.string, !s.isEmpty, s.utf8.count <= 64 else { throw fail("'arch' must be a short string") }
            m.arch = s
        }
        if let v = d["stage_shortcut"], v.isPresent {
            guard case .bool(let b) = v else { throw fail("'stage_shortcut' must be True or False") }
            m.stageShortcut = b
        }
        if let v = d["classes"], v.isPresent { m.classes = try strings(v, "'classes'") }
        m.inputSize = try size(d["input_size"], "input_size", 32...2048)
        m.resize = try size(d["resize"], "resize", 32...8192)
        if let r = m.resize, r < (m.inputSize ?? 32) { throw fail("'resize' \(r) is smaller than 'input_size'") }
        m.mean = try triple(d["mean"], "mean", positive: false)
        m.std = try triple(d["std"], "std", positive: true)
        if let v = d["interpolation"], v.isPresent {
            guard let i = v.string.flatMap(Preprocessing.Interpolation.init(name:)) else {
                throw fail("'interpolation' must be 'bilinear' or 'bicubic'")
            }
            m.interpolation = i
        }
        if let v = d["calibration"], v.isPresent {
            guard let s = v.string, !s.isEmpty, s.utf8.count <= 4096, !s.utf8.contains(0) else {
                throw fail("'calibration' must be a folder path")
            }
            m.calibration = s
        }
        return m
    }

    /// Class names: at most `maxClasses`, each a label the model file can hold, without control characters
    /// (mlrc-infer prints one per line).
    static func strings(_ v: PickleValue, _ what: String) throws -> [String] {
        guard let items = v.items, items.count <= maxClasses else { throw fail("\(what) must be a list of names") }
        return try items.enumerated().map { i, item in
            guard let s = item.string, s.utf8.count <= 4096, !s.unicodeScalars.contains(where: { $0.value < 0x20 })
            else { throw fail("\(what) item \(i) is not a class name (a string of printable characters)") }
            return s
        }
    }

    /// {name: index} as the list of names by index; the indices must be 0..<n, each once.
    static func classesByIndex(_ d: PickleDict) throws -> [String] {
        guard d.entries.count <= maxClasses else { throw fail("'class_to_idx' is too large") }
        var names = [String?](repeating: nil, count: d.entries.count)
        for (k, v) in d.entries {
            guard let name = k.string, let i = v.int, i >= 0, i < names.count, names[i] == nil else {
                throw fail("'class_to_idx' must map names to the indices 0..<n")
            }
            names[i] = name
        }
        return try strings(.tuple(names.map { .string($0 ?? "") }), "'class_to_idx'")
    }

    static func size(_ v: PickleValue?, _ name: String, _ range: ClosedRange<Int>) throws -> Int? {
        guard let v, v.isPresent else { return nil }
        guard case .int(let n) = v, range.contains(n) else {
            throw fail("'\(name)' must be an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return n
    }

    static func triple(_ v: PickleValue?, _ name: String, positive: Bool) throws -> [Float]? {
        guard let v, v.isPresent else { return nil }
        let values: [Float]? = v.items.flatMap { items in
            let f = items.compactMap { item -> Float? in
                switch item {
                case .float(let d): return Float(d)
                case .int(let i): return Float(i)
                default: return nil
                }
            }
            return f.count == 3 && items.count == 3 && f.allSatisfy({ $0.isFinite && (!positive || $0 > 0) })
                ? f : nil
        }
        guard let values else { throw fail("'\(name)' must be three numbers R, G, B\(positive ? " above 0" : "")") }
        return values
    }

    static func fail(_ m: String) -> MLRCError { MLRCError.format("checkpoint: the 'mlrc' entry \(m)") }
}

extension PickleValue {
    /// Not Python's None (a field written as None counts as absent).
    var isPresent: Bool { if case .none = self { return false }; return true }
}
