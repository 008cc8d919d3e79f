#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif
import CMLRCABI
import CMLRCKernels
import MLRCRuntime
import Synchronization

/// What an `mlrc_model *` points to: the model plus C copies of its strings, owned until close.
final class ModelHandle {
    let model: Model
    let labels: [UnsafeMutablePointer<CChar>]
    let architecture: UnsafeMutablePointer<CChar>
    let preprocessing: UnsafeMutablePointer<CChar>

    init(_ model: Model) throws {
        self.model = model
        var copies: [UnsafeMutablePointer<CChar>] = []
        copies.reserveCapacity(model.labels.count)
        for label in model.labels {
            guard let c = strdup(label) else {
                copies.forEach { free($0) }
                throw MLRCError(.memory, "cannot allocate labels")
            }
            copies.append(c)
        }
        guard let arch = strdup(model.description.architecture) else {
            copies.forEach { free($0) }
            throw MLRCError(.memory, "cannot allocate labels")
        }
        guard let pre = strdup(model.description.preprocessing.json) else {
            copies.forEach { free($0) }
            free(arch)
            throw MLRCError(.memory, "cannot allocate labels")
        }
        labels = copies
        architecture = arch
        preprocessing = pre
    }

    deinit {
        labels.forEach { free($0) }
        free(architecture)
        free(preprocessing)
    }

    static func from(_ p: OpaquePointer?) -> ModelHandle? {
        guard let p else { return nil }
        return Unmanaged<ModelHandle>.fromOpaque(UnsafeRawPointer(p)).takeUnretainedValue()
    }
}

/// What an `mlrc_session *` points to: the session, its last error, and logits scratch.
final class SessionHandle {
    let session: Session
    let modelHandle: ModelHandle  // keeps label strings alive for predictions
    var error: UnsafeMutablePointer<CChar>?
    var logits: [Float]

    init(session: Session, modelHandle: ModelHandle) {
        self.session = session
        self.modelHandle = modelHandle
        logits = Array(repeating: 0, count: session.model.numClasses)
    }

    deinit { free(error) }

    func setError(_ message: String) {
        free(error)
        error = strdup(message)
    }

    /// Set while a call runs on this session: a second thread's call is refused instead of sharing the buffers.
    private let inUse = Atomic<Bool>(false)

    /// Runs `body` as the session's only user; false (body not run) when another thread is using it.
    func exclusively(_ body: () -> Int32) -> Int32? {
        guard inUse.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return nil }
        defer { inUse.store(false, ordering: .releasing) }
        return body()
    }

    static func from(_ p: OpaquePointer?) -> SessionHandle? {
        guard let p else { return nil }
        return Unmanaged<SessionHandle>.fromOpaque(UnsafeRawPointer(p)).takeUnretainedValue()
    }
}

/// Static C strings, made once (Swift globals initialise exactly once, thread-safely). The force-unwraps
/// can only fail if a few bytes cannot be allocated when the library is first used, not on any input.
enum CStrings {
    static let empty: UnsafeMutablePointer<CChar> = strdup("")!
    static let version: UnsafeMutablePointer<CChar> = strdup(mlrcVersion)!
    static let statuses: [UnsafeMutablePointer<CChar>] =
        ([
            "ok", "invalid argument", "I/O error", "bad model format", "unsupported model version",
            "bad or unsupported image", "out of memory", "internal error",
        ] as [String]).map { strdup($0)! }
    static let unknownStatus: UnsafeMutablePointer<CChar> = strdup("unknown status")!
    /// For each ISA level: its name and the features it enables on this CPU ("avx2 (sse4.2 avx2 fma)").
    static let isaLevels: [UnsafeMutablePointer<CChar>] = (0..<Int32(MLRC_ISA_COUNT.rawValue)).map { level in
        var buf = [CChar](repeating: 0, count: 256)
        let features = String(
            cString: mlrc_cpu_feature_names(mlrc_cpu_detected() & mlrc_isa_features(level), &buf, 256))
        let name = mlrc_isa_name(level).map { String(cString: $0) } ?? "?"
        return strdup("\(name) (\(features))")!
    }
}

/// From include/mlrc.h, the one place the version is written.
public let mlrcVersion = MLRC_VERSION

/// The calling thread's last error message, for mlrc_last_error.
enum ThreadError {
    static let key: pthread_key_t = {
        var k = pthread_key_t()
        pthread_key_create(&k) { free($0) }
        return k
    }()

    static func set(_ message: String) {
        free(pthread_getspecific(key))
        pthread_setspecific(key, strdup(message))
    }

    static func clear() {
        free(pthread_getspecific(key))
        pthread_setspecific(key, nil)
    }

    static var current: UnsafePointer<CChar> {
        guard let p = pthread_getspecific(key) else { return UnsafePointer(CStrings.empty) }
        return UnsafePointer(p.assumingMemoryBound(to: CChar.self))
    }
}

/// Runs `body`, turning a thrown MLRCError into its status and recording the message.
@inline(__always)
func guarded(_ session: SessionHandle? = nil, _ body: () throws -> Void) -> Int32 {
    do {
        try body()
        ThreadError.clear()
        return 0
    } catch let e as MLRCError {
        ThreadError.set(e.message)
        session?.setError(e.message)
        return Int32(bitPattern: e.kind.rawValue)
    } catch {
        ThreadError.set("\(error)")
        session?.setError("\(error)")
        return Int32(bitPattern: MLRC_ERR_INTERNAL.rawValue)
    }
}
