/// Values the restricted unpickler builds. Only data: there is no case that can hold or run code.
/// A global the reader does not know becomes `.global`, and calling it yields an inert `.object`.
public indirect enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple([PickleValue])
    case list(PickleList)
    case dict(PickleDict)
    case global(module: String, name: String)
    /// The inert result of calling or instantiating an unknown global (argparse.Namespace, an optimizer...).
    case object(module: String, name: String)
    case storage(StorageRef)
    case tensor(TensorRef)

    public var string: String? { if case .string(let s) = self { return s }; return nil }
    public var int: Int? {
        switch self {
        case .int(let v): return v
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }
    public var items: [PickleValue]? {
        switch self {
        case .tuple(let t): return t
        case .list(let l): return l.items
        default: return nil
        }
    }
}

/// Lists and dicts are mutated after creation (APPEND, SETITEM) and shared through the memo: reference types.
/// A pickle can make one contain itself, so every container is registered in its unpickler's arena, which
/// empties them all when it goes away: reference cycles a hostile file builds cannot leak.
public final class PickleList {
    public var items: [PickleValue] = []
    init(_ items: [PickleValue] = [], arena: PickleArena) {
        self.items = items
        arena.lists.append(self)
    }
}

public final class PickleDict {
    public private(set) var entries: [(key: PickleValue, value: PickleValue)] = []
    /// Where each string key is in `entries`: setting and finding a key take constant time (a hostile pickle
    /// may set the same keys millions of times).
    private var index: [String: Int] = [:]

    init(arena: PickleArena) { arena.dicts.append(self) }

    public subscript(key: String) -> PickleValue? {
        index[key].map { entries[$0].value }
    }

    /// Python's d[key] = value: a string key already present keeps its place and takes the new value.
    func set(_ key: PickleValue, _ value: PickleValue) {
        if let s = key.string {
            if let i = index[s] {
                entries[i].value = value
                return
            }
            index[s] = entries.count
        }
        entries.append((key, value))
    }

    func removeAll() {
        entries.removeAll()
        index.removeAll()
    }
}

/// A storage named by a persistent id: where its bytes are is for the container format to say.
public struct StorageRef {
    public var key: String
    public var type: ScalarType
    /// Legacy format views: (base key, element offset) into a larger storage.
    public var viewOf: (key: String, offset: Int)?
}

public struct TensorRef {
    public var storage: StorageRef
    public var offset: Int
    public var shape: [Int]
    public var stride: [Int]
}

/// Owns every container one unpickling created; emptying them on release breaks any cycle among them.
public final class PickleArena {
    var lists: [PickleList] = []
    var dicts: [PickleDict] = []

    deinit {
        for l in lists { l.items.removeAll() }
        for d in dicts { d.removeAll() }
    }
}
