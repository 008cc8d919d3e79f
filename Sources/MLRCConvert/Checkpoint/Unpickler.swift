import MLRCRuntime

/// A restricted pickle interpreter (protocols 0-5 as torch.save writes them). It builds plain data,
/// storages and tensors; it never imports or calls anything. The only globals it gives meaning to are
/// tensor/parameter rebuilders and OrderedDict; any other global is an inert name, and calling it
/// (REDUCE, NEWOBJ, INST, OBJ) yields an inert placeholder object whose state is discarded.
public struct Unpickler {
    /// Bounds against hostile inputs.
    static let maxStack = 1 << 20
    static let maxMemo = 1 << 22
    static let maxContainer = 1 << 24
    /// Tuples are values: one nested in another is freed (and walked) recursively, so their nesting is bounded.
    /// Checkpoints nest them a few levels deep.
    static let maxTupleDepth: Int32 = 512

    private let bytes: [UInt8]
    private var pos: Int
    private var stack: [PickleValue] = []
    /// For each stack entry: how deeply tuples nest in it (0 for anything but a tuple).
    private var depths: [Int32] = []
    private var marks: [Int] = []
    private var memo: [Int: (value: PickleValue, depth: Int32)] = [:]
    private let persistentLoad: (PickleValue) throws -> PickleValue
    /// Keeps the containers alive while the result is used; see PickleArena.
    public let arena = PickleArena()

    public init(bytes: [UInt8], start: Int = 0, persistentLoad: @escaping (PickleValue) throws -> PickleValue) {
        self.bytes = bytes
        self.pos = start
        self.persistentLoad = persistentLoad
    }

    /// Where the next pickle starts (the legacy format has several in a row).
    public var position: Int { pos }

    // MARK: reading primitives

    private func fail(_ message: String) -> MLRCError { MLRCError.format("pickle: \(message) at byte \(pos)") }

    private mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, n <= bytes.count - pos else { throw fail("truncated data") }
        defer { pos += n }
        return bytes[pos..<(pos + n)]
    }

    private mutating func uint(_ n: Int) throws -> UInt64 {
        var v: UInt64 = 0
        for (i, b) in try take(n).enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
        return v
    }

    private mutating func line() throws -> String {
        guard let end = bytes[pos...].firstIndex(of: 0x0A) else { throw fail("unterminated line") }
        let s = String(decoding: bytes[pos..<end], as: UTF8.self)
        pos = end + 1
        return s
    }

    private mutating func utf8(_ n: Int) throws -> String { String(decoding: try take(n), as: UTF8.self) }

    private mutating func length(_ n: Int) throws -> Int {
        let v = try uint(n)
        guard v <= UInt64(bytes.count) else { throw fail("length \(v) beyond the data") }
        return Int(v)
    }

    // MARK: stack

    private mutating func push(_ v: PickleValue, depth: Int32 = 0) throws {
        guard stack.count < Self.maxStack else { throw fail("stack too deep") }
        stack.append(v)
        depths.append(depth)
    }

    private mutating func popEntry() throws -> (value: PickleValue, depth: Int32) {
        guard let v = stack.popLast(), let d = depths.popLast() else { throw fail("stack underflow") }
        return (v, d)
    }

    private mutating func pop() throws -> PickleValue { try popEntry().value }

    private mutating func popMarkEntries() throws -> (items: [PickleValue], depth: Int32) {
        guard let m = marks.popLast(), m <= stack.count else { throw fail("missing MARK") }
        let items = Array(stack[m...])
        let depth = depths[m...].max() ?? 0
        stack.removeSubrange(m...)
        depths.removeSubrange(m...)
        return (items, depth)
    }

    private mutating func popMark() throws -> [PickleValue] { try popMarkEntries().items }

    /// A tuple of items whose deepest tuple nesting is `inner`.
    private mutating func pushTuple(_ items: [PickleValue], inner: Int32) throws {
        guard inner < Self.maxTupleDepth else { throw fail("tuples nested more than \(Self.maxTupleDepth) deep") }
        try push(.tuple(items), depth: inner + 1)
    }

    private mutating func memoize(_ key: Int, _ v: (value: PickleValue, depth: Int32)) throws {
        guard memo.count < Self.maxMemo || memo[key] != nil else { throw fail("memo too large") }
        memo[key] = v
    }

    private func topEntry() throws -> (value: PickleValue, depth: Int32) {
        guard let v = stack.last, let d = depths.last else { throw fail("stack underflow") }
        return (v, d)
    }

    private func top() throws -> PickleValue {
        guard let v = stack.last else { throw fail("stack underflow") }
        return v
    }

    // MARK: the interpreter

    public mutating func load() throws -> PickleValue {
        while true {
            let op = try take(1).first!
            switch op {
            case 0x80: _ = try take(1)  // PROTO
            case 0x95: _ = try take(8)  // FRAME: frames are just a prefetch hint
            case 0x2E:  // STOP
                return try pop()
            case 0x28: marks.append(stack.count)  // MARK
            case 0x4E: try push(.none)
            case 0x88: try push(.bool(true))
            case 0x89: try push(.bool(false))
            case 0x4A: try push(.int(Int(Int32(truncatingIfNeeded: try uint(4)))))  // BININT
            case 0x4B: try push(.int(Int(try uint(1))))  // BININT1
            case 0x4D: try push(.int(Int(try uint(2))))  // BININT2
            case 0x8A:  // LONG1
                let n = Int(try uint(1))
                try push(try longValue(Array(try take(n))))
            case 0x8B:  // LONG4
                let n = try length(4)
                try push(try longValue(Array(try take(n))))
            case 0x49:  // INT (text)
                let s = try line()
                if s == "00" {
                    try push(.bool(false))
                } else if s == "01" {
                    try push(.bool(true))
                } else {
                    guard let v = Int(s) else { throw fail("bad INT") }
                    try push(.int(v))
                }
            case 0x4C:  // LONG (text)
                var s = try line()
                if s.hasSuffix("L") { s.removeLast() }
                guard let v = Int(s) else { throw fail("LONG out of range") }
                try push(.int(v))
            case 0x47: try push(.float(Double(bitPattern: UInt64(bigEndian: try uint(8)))))  // BINFLOAT (big-endian)
            case 0x46:  // FLOAT (text)
                guard let v = Double(try line()) else { throw fail("bad FLOAT") }
                try push(.float(v))
            case 0x58: try push(.string(try utf8(try length(4))))  // BINUNICODE
            case 0x8C: try push(.string(try utf8(try length(1))))  // SHORT_BINUNICODE
            case 0x8D: try push(.string(try utf8(try length(8))))  // BINUNICODE8
            case 0x54: try push(.string(try utf8(try length(4))))  // BINSTRING
            case 0x55: try push(.string(try utf8(try length(1))))  // SHORT_BINSTRING
            case 0x56: try push(.string(try line()))  // UNICODE (raw-unicode-escape; names are ASCII)
            case 0x53:  // STRING (quoted)
                var s = try line()
                if s.count >= 2, let f = s.first, f == "'" || f == "\"" { s = String(s.dropFirst().dropLast()) }
                try push(.string(s))
            case 0x42: try push(.bytes(Array(try take(try length(4)))))  // BINBYTES
            case 0x43: try push(.bytes(Array(try take(try length(1)))))  // SHORT_BINBYTES
            case 0x8E: try push(.bytes(Array(try take(try length(8)))))  // BINBYTES8
            case 0x96: try push(.bytes(Array(try take(try length(8)))))  // BYTEARRAY8
            case 0x29: try pushTuple([], inner: 0)  // EMPTY_TUPLE
            case 0x85:  // TUPLE1
                let a = try popEntry()
                try pushTuple([a.value], inner: a.depth)
            case 0x86:  // TUPLE2
                let b = try popEntry(), a = try popEntry()
                try pushTuple([a.value, b.value], inner: max(a.depth, b.depth))
            case 0x87:  // TUPLE3
                let c = try popEntry(), b = try popEntry(), a = try popEntry()
                try pushTuple([a.value, b.value, c.value], inner: max(a.depth, b.depth, c.depth))
            case 0x74:  // TUPLE
                let (items, inner) = try popMarkEntries()
                try pushTuple(items, inner: inner)
            case 0x5D: try push(.list(PickleList(arena: arena)))  // EMPTY_LIST
            case 0x6C: try push(.list(PickleList(try popMark(), arena: arena)))  // LIST
            case 0x7D: try push(.dict(PickleDict(arena: arena)))  // EMPTY_DICT
            case 0x64:  // DICT
                let items = try popMark()
                let d = PickleDict(arena: arena)
                try setItems(d, items)
                try push(.dict(d))
            case 0x8F: try push(.list(PickleList(arena: arena)))  // EMPTY_SET (kept as a list)
            case 0x90:  // ADDITEMS
                let items = try popMark()
                if case .list(let l) = try top() { try append(l, items) }
            case 0x91: try push(.list(PickleList(try popMark(), arena: arena)))  // FROZENSET
            case 0x61:  // APPEND
                let v = try pop()
                if case .list(let l) = try top() { try append(l, [v]) } else { throw fail("APPEND to a non-list") }
            case 0x65:  // APPENDS
                let items = try popMark()
                if case .list(let l) = try top() { try append(l, items) } else { throw fail("APPENDS to a non-list") }
            case 0x73:  // SETITEM
                let v = try pop(), k = try pop()
                if case .dict(let d) = try top() {
                    try setItems(d, [k, v])
                } else {
                    throw fail("SETITEM on a non-dict")
                }
            case 0x75:  // SETITEMS
                let items = try popMark()
                switch try top() {
                case .dict(let d): try setItems(d, items)
                case .object: break  // state of an inert object: dropped
                default: throw fail("SETITEMS on a non-dict")
                }
            case 0x30: _ = try pop()  // POP
            case 0x31: _ = try popMark()  // POP_MARK
            case 0x32:  // DUP
                let t = try topEntry()
                try push(t.value, depth: t.depth)
            case 0x71: try memoize(Int(try uint(1)), try topEntry())  // BINPUT
            case 0x72: try memoize(Int(try uint(4)), try topEntry())  // LONG_BINPUT
            case 0x70:  // PUT
                guard let k = Int(try line()) else { throw fail("bad PUT") }
                try memoize(k, try topEntry())
            case 0x94: try memoize(memo.count, try topEntry())  // MEMOIZE
            case 0x68:  // BINGET
                let v = try recall(Int(try uint(1)))
                try push(v.value, depth: v.depth)
            case 0x6A:  // LONG_BINGET
                let v = try recall(Int(try uint(4)))
                try push(v.value, depth: v.depth)
            case 0x67:  // GET
                guard let k = Int(try line()) else { throw fail("bad GET") }
                let v = try recall(k)
                try push(v.value, depth: v.depth)
            case 0x63:  // GLOBAL "module\nname\n"
                let module = try line(), name = try line()
                try push(.global(module: module, name: name))
            case 0x93:  // STACK_GLOBAL
                let name = try pop(), module = try pop()
                guard let m = module.string, let n = name.string else { throw fail("STACK_GLOBAL needs strings") }
                try push(.global(module: m, name: n))
            case 0x52:  // REDUCE
                let args = try pop(), callable = try pop()
                try push(try reduce(callable, args))
            case 0x81:  // NEWOBJ
                _ = try pop()
                try push(inert(try pop()))
            case 0x92:  // NEWOBJ_EX
                _ = try pop(); _ = try pop()
                try push(inert(try pop()))
            case 0x6F:  // OBJ
                var items = try popMark()
                guard !items.isEmpty else { throw fail("OBJ without class") }
                try push(inert(items.removeFirst()))
            case 0x69:  // INST
                let module = try line(), name = try line()
                _ = try popMark()
                try push(.object(module: module, name: name))
            case 0x62:  // BUILD: sets state; dicts and inert objects keep nothing of it
                _ = try pop()
            case 0x51:  // BINPERSID
                try push(try persistentLoad(try pop()))
            case 0x50:  // PERSID
                try push(try persistentLoad(.string(try line())))
            case 0x82, 0x83, 0x84: throw fail("copyreg extension codes are not supported")
            default:
                throw fail(String(format16: op))
            }
        }
    }

    private func recall(_ key: Int) throws -> (value: PickleValue, depth: Int32) {
        guard let v = memo[key] else { throw fail("memo key \(key) missing") }
        return v
    }

    private func append(_ l: PickleList, _ items: [PickleValue]) throws {
        guard l.items.count + items.count <= Self.maxContainer else { throw fail("list too large") }
        l.items.append(contentsOf: items)
    }

    private func setItems(_ d: PickleDict, _ items: [PickleValue]) throws {
        guard items.count % 2 == 0 else { throw fail("odd number of dict items") }
        guard d.entries.count + items.count / 2 <= Self.maxContainer else { throw fail("dict too large") }
        var i = 0
        while i < items.count {
            d.set(items[i], items[i + 1])
            i += 2
        }
    }

    /// A little-endian two's-complement integer; wider than 64 bits stays as its bytes (the legacy magic).
    private func longValue(_ b: [UInt8]) throws -> PickleValue {
        guard b.count <= 8 else { return .bytes(b) }
        if b.isEmpty { return .int(0) }
        var v: UInt64 = 0
        for (i, x) in b.enumerated() { v |= UInt64(x) << (8 * UInt64(i)) }
        if b.count < 8, b.last! & 0x80 != 0 { v |= ~0 << (8 * UInt64(b.count)) }  // sign-extend
        return .int(Int(Int64(bitPattern: v)))
    }

    private func inert(_ cls: PickleValue) -> PickleValue {
        if case .global(let m, let n) = cls { return .object(module: m, name: n) }
        return .object(module: "?", name: "?")
    }

    /// The only calls given meaning: rebuilding tensors and parameters, and OrderedDict. Nothing is executed.
    private func reduce(_ callable: PickleValue, _ args: PickleValue) throws -> PickleValue {
        guard case .global(let module, let name) = callable else { return .object(module: "?", name: "?") }
        let a = args.items ?? []
        switch (module, name) {
        case ("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_tensor"),
            ("torch._utils", "_rebuild_tensor_v3"):
            guard a.count >= 4, case .storage(let s) = a[0], let offset = a[1].int,
                let size = a[2].items?.compactMap(\.int), let stride = a[3].items?.compactMap(\.int),
                size.count == a[2].items?.count, stride.count == a[3].items?.count
            else { throw fail("malformed tensor") }
            return .tensor(TensorRef(storage: s, offset: offset, shape: size, stride: stride))
        case ("torch._utils", "_rebuild_parameter"), ("torch._utils", "_rebuild_parameter_with_state"):
            guard let first = a.first, case .tensor = first else { throw fail("malformed parameter") }
            return first
        case ("torch._tensor", "_rebuild_from_type_v2"):
            // (function, type, args, state): rebuild with the inner function, ignore the subclass.
            guard a.count >= 3 else { throw fail("malformed tensor subclass") }
            return try reduce(a[0], a[2])
        case ("collections", "OrderedDict"), ("builtins", "dict"), ("__builtin__", "dict"):
            let d = PickleDict(arena: arena)
            for pair in a.first?.items ?? [] {
                if let kv = pair.items, kv.count == 2 { try setItems(d, kv) }
            }
            return .dict(d)
        default:
            return .object(module: module, name: name)
        }
    }
}

extension String {
    init(format16 op: UInt8) {
        let hex = Array("0123456789abcdef")
        self = "unsupported opcode 0x\(hex[Int(op >> 4)])\(hex[Int(op & 15)])"
    }
}
