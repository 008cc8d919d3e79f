/// Assigns activation values to buffers by lifetime: a value's buffer is reused once its last reader
/// has run, so peak memory is the largest set of values alive at once, not the sum of all values.
struct MemoryPlan {
    /// Buffer index for each value.
    let bufferOfValue: [Int]
    /// Size in floats of each buffer.
    let bufferSizes: [Int]

    /// fusion: a fused quantize writes its output during the producer's step, so that output is allocated there too.
    init(graph: ValidatedGraph, fusion: QuantizeFusion) {
        let valueCount = graph.shapes.count
        var lastUse = Array(0..<valueCount)
        for step in graph.steps {
            for v in step.node.inputs { lastUse[v] = max(lastUse[v], step.output) }
        }
        lastUse[graph.outputValue] = Int.max
        lastUse[0] = Int.max  // the input keeps its buffer: preprocessing writes there, profiling re-runs it
        var assignment = Array(repeating: -1, count: valueCount)
        var sizes: [Int] = []
        var free: [Int] = []

        func allocate(_ v: Int) {
            let need = (graph.shapes[v].count * graph.elementBytes(v) + 3) / 4  // in floats; uint8 values take a quarter
            // Best fit among free buffers; grow the smallest one that is too small when none fits.
            if let best = free.filter({ sizes[$0] >= need }).min(by: { sizes[$0] < sizes[$1] }) {
                assignment[v] = best
                free.removeAll { $0 == best }
            } else if let largest = free.max(by: { sizes[$0] < sizes[$1] }) {
                sizes[largest] = need
                assignment[v] = largest
                free.removeAll { $0 == largest }
            } else {
                sizes.append(need)
                assignment[v] = sizes.count - 1
            }
        }
        allocate(0)
        for (index, step) in graph.steps.enumerated() {
            if assignment[step.output] < 0 { allocate(step.output) }  // before releasing inputs: kernels never write over their inputs
            if let fused = fusion.targets[index] { allocate(fused.output) }
            if lastUse[step.output] == step.output { free.append(assignment[step.output]) }  // never read
            for v in Set(step.node.inputs) where lastUse[v] == step.output {
                free.append(assignment[v])
            }
        }
        bufferOfValue = assignment
        bufferSizes = sizes
    }
}
