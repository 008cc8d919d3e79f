#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Runs `count` items on `workers` threads, each worker with its own state (an mlrc session), and hands the
/// results to `emit` on the calling thread in input order as soon as each one and all before it are done.
final class OrderedWork<State, Output> {
    private var mutex = pthread_mutex_t()
    private var ready = pthread_cond_t()
    private var next = 0
    private var results: [Output?]
    private let work: (inout State, Int) -> Output

    init(count: Int, work: @escaping (inout State, Int) -> Output) {
        results = Array(repeating: nil, count: count)
        self.work = work
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&ready, nil)
    }

    deinit {
        pthread_cond_destroy(&ready)
        pthread_mutex_destroy(&mutex)
    }

    /// One worker's loop: take the next index, process it, publish it.
    private func drain(_ state: inout State) {
        while true {
            pthread_mutex_lock(&mutex)
            let i = next
            next += 1
            pthread_mutex_unlock(&mutex)
            guard i < results.count else { return }
            let output = work(&state, i)
            pthread_mutex_lock(&mutex)
            results[i] = output
            pthread_cond_broadcast(&ready)
            pthread_mutex_unlock(&mutex)
        }
    }

    /// Starts one worker thread per state and emits results in order while they work (if no thread can start,
    /// the calling thread does the work itself).
    func run(states: [State], emit: (Int, Output) -> Void) throws {
        var threads: [pthread_t] = []
        for state in states {
            guard
                let thread = startThread({ [self] in
                    var s = state
                    self.drain(&s)
                })
            else { break }
            threads.append(thread)
        }
        if threads.isEmpty, var only = states.first { drain(&only) }  // no thread could start: do it here
        for i in 0..<results.count {
            pthread_mutex_lock(&mutex)
            while results[i] == nil { pthread_cond_wait(&ready, &mutex) }
            let output = results[i]!
            results[i] = nil
            pthread_mutex_unlock(&mutex)
            emit(i, output)
        }
        for t in threads { pthread_join(t, nil) }
    }
}

private final class ThreadBody {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
}

/// A joinable thread running `body`, or nil when the system refuses one.
private func startThread(_ body: @escaping () -> Void) -> pthread_t? {
    let box = Unmanaged.passRetained(ThreadBody(body))
    var thread = pthread_t()
    let status = pthread_create(
        &thread, nil,
        { raw in
            Unmanaged<ThreadBody>.fromOpaque(raw!).takeRetainedValue().body()
            return nil
        }, box.toOpaque())
    guard status == 0 else {
        box.release()
        return nil
    }
    return thread
}
