/// What runs around a session's steps without changing what they compute: the profiler times them, the
/// calibration observer reads (or replaces) the values they write. The executor calls a hook; it knows nothing of
/// what the hook is for.
protocol ExecutionHook: AnyObject {
    /// Every node as its own pass: no fused quantizes, and a GELU or sigmoid fused into a float32 convolution
    /// applied apart, so that every value (and that activation's input) is written out to be seen.
    var unfused: Bool { get }
    func stepStarts(_ step: Int)
    func stepEnds(_ step: Int)
    /// Value `value` is in its buffer: the input (value 0) before the first step, each step's output after it, and
    /// a split activation's input (preActivation) before the activation runs.
    func valueReady(_ value: Int, preActivation: Bool)
}

/// Per-step wall time, summed over runs.
final class StepTimer: ExecutionHook {
    private(set) var nanoseconds: [UInt64]
    private var started: UInt64 = 0

    init(steps: Int) { nanoseconds = Array(repeating: 0, count: steps) }

    var unfused: Bool { false }
    func stepStarts(_ step: Int) { started = Clock.nanoseconds() }
    func stepEnds(_ step: Int) { nanoseconds[step] += Clock.nanoseconds() - started }
    func valueReady(_ value: Int, preActivation: Bool) {}
}

/// Hands every value to a closure (Session.observer): calibration statistics and fidelity measurement.
final class ValueObserver: ExecutionHook {
    private let see: (Int, Bool) -> Void

    init(_ see: @escaping (Int, Bool) -> Void) { self.see = see }

    var unfused: Bool { true }
    func stepStarts(_ step: Int) {}
    func stepEnds(_ step: Int) {}
    func valueReady(_ value: Int, preActivation: Bool) { see(value, preActivation) }
}
