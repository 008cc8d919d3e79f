/// Overflow-checked arithmetic for sizes, offsets and strides read from files (the model reader, the checkpoint
/// readers): a hostile file must get an error, never a trap. The one place this arithmetic is written.
@inline(__always)
public func checkedMul(_ a: Int, _ b: Int, _ what: @autoclosure () -> String) throws -> Int {
    let (r, o) = a.multipliedReportingOverflow(by: b)
    if o { throw MLRCError.format("\(what()): size overflows") }
    return r
}

@inline(__always)
public func checkedAdd(_ a: Int, _ b: Int, _ what: @autoclosure () -> String) throws -> Int {
    let (r, o) = a.addingReportingOverflow(b)
    if o { throw MLRCError.format("\(what()): size overflows") }
    return r
}

/// Product of dimensions with overflow checks.
public func checkedCount(_ dims: [Int], _ what: @autoclosure () -> String) throws -> Int {
    var n = 1
    for d in dims {
        if d < 0 { throw MLRCError.format("\(what()): negative dimension") }
        n = try checkedMul(n, d, what())
    }
    return n
}
