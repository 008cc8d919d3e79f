import MLRCRuntime

/// The named parameters of a network, read from any supported checkpoint file.
public struct StateDict {
    public var tensors: [String: HostTensor]
    /// Where in the file they were found, for messages ("the 'model' entry").
    public var origin: String
    /// Class names, preprocessing and architecture a training script recorded beside the weights.
    public var metadata: TrainingMetadata?

    public init(tensors: [String: HostTensor], origin: String, metadata: TrainingMetadata? = nil) {
        self.tensors = tensors
        self.origin = origin
        self.metadata = metadata
    }

    public subscript(name: String) -> HostTensor? { tensors[name] }
    public func has(_ name: String) -> Bool { tensors[name] != nil }
    public var names: [String] { tensors.keys.sorted() }

    /// Keys under which training scripts keep the weights, in the order they are tried.
    static let nestedKeys = ["model", "state_dict", "model_ema", "model_state_dict", "net", "module"]

    /// What the tensors of a checkpoint may take once converted to fp32, by default: 1 GiB (a VGG-16 needs 0.55),
    /// and at most four times the file (fp16 storages double; more means views sharing storage).
    public static let defaultMaxTensorBytes = 1 << 30

    public static func load(path: String, maxTensorBytes: Int = defaultMaxTensorBytes) throws -> StateDict {
        do {
            return try parse(try FileBytes.read(path), maxTensorBytes: maxTensorBytes)
        } catch let e as MLRCError where e.message.hasPrefix("no state_dict") {
            throw MLRCError(e.kind, "\(path): \(e.message)")
        }
    }

    /// The state_dict in a checkpoint file's bytes (zip, legacy pickle or safetensors).
    public static func parse(_ bytes: [UInt8], maxTensorBytes: Int = defaultMaxTensorBytes) throws -> StateDict {
        var budget = TensorBudget(limit: min(maxTensorBytes, max(4 * bytes.count, 64 << 20)), absolute: maxTensorBytes)
        if Safetensors.looksLike(bytes) {
            return StateDict(
                tensors: stripPrefixes(try Safetensors.load(bytes, budget: &budget)), origin: "safetensors")
        }
        let checkpoint = try TorchCheckpoint.load(bytes)
        guard let (dict, origin) = find(checkpoint.root, depth: 0) else {
            throw MLRCError.format(
                "no state_dict found: expected a dict of tensors, or one under \(nestedKeys.map { "'\($0)'" }.joined(separator: ", "))"
            )
        }
        var tensors: [String: HostTensor] = [:]
        for e in dict.entries {
            guard let name = e.key.string, case .tensor(let ref) = e.value else { continue }
            try budget.take(try checkedCount(ref.shape, "tensor \(name)"), name: name)
            tensors[name] = try checkpoint.tensor(ref, name: name)
        }
        return StateDict(
            tensors: stripPrefixes(tensors), origin: origin, metadata: try TrainingMetadata.read(checkpoint.root))
    }

    /// A dict most of whose values are tensors, here or under one of the usual keys.
    static func find(_ v: PickleValue, depth: Int) -> (PickleDict, String)? {
        guard depth < 3, case .dict(let d) = v else { return nil }
        let tensorCount = d.entries.filter {
            if case .tensor = $0.value { return true }; return false
        }.count
        if tensorCount > 0 && tensorCount * 2 >= d.entries.count { return (d, depth == 0 ? "the top-level dict" : "") }
        for key in nestedKeys {
            if let inner = d[key], let (found, _) = find(inner, depth: depth + 1) {
                return (found, "the '\(key)' entry")
            }
        }
        return nil
    }

    /// How many fp32 bytes the tensors read so far take, against the limit (checked before each one is copied).
    struct TensorBudget {
        let limit: Int
        let absolute: Int
        private(set) var used = 0

        init(limit: Int, absolute: Int) {
            self.limit = limit
            self.absolute = absolute
        }

        mutating func take(_ elements: Int, name: String) throws {
            used = try checkedAdd(used, try checkedMul(elements, 4, "tensor \(name)"), "tensor \(name)")
            guard used <= limit else {
                throw MLRCError(
                    .memory,
                    "checkpoint: its tensors need more than \(limit >> 20) MiB as fp32 (at \(name)); the limit is four "
                        + "times the file, at most \(absolute >> 20) MiB (quantize --max-tensor-memory raises it)")
            }
        }
    }

    /// DataParallel ("module.") and torch.compile ("_orig_mod.") prefixes are not part of the names.
    static func stripPrefixes(_ t: [String: HostTensor]) -> [String: HostTensor] {
        var out = t
        for prefix in ["module.", "_orig_mod."] where !out.isEmpty && out.keys.allSatisfy({ $0.hasPrefix(prefix) }) {
            out = Dictionary(uniqueKeysWithValues: out.map { (String($0.key.dropFirst(prefix.count)), $0.value) })
        }
        return out
    }
}
