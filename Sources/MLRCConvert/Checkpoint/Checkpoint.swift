import MLRCRuntime

/// An unpickled checkpoint: its object tree, and the raw bytes its tensors' storages live in.
/// Tensors are copied out only when asked for, so optimizer state is never materialized.
public struct Checkpoint {
    public let root: PickleValue
    /// The containers under `root`, emptied when the last copy of this checkpoint goes away.
    let arena: PickleArena
    let bytes: [UInt8]
    /// Where a storage's bytes are: (offset, byte size) in `bytes`.
    let locate: (StorageRef) throws -> (Int, Int)

    public func tensor(_ ref: TensorRef, name: String) throws -> HostTensor {
        let (offset, size) = try locate(ref.storage)
        return try bytes.withUnsafeBytes { raw in
            try materialize(
                storage: UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + size)]),
                type: ref.storage.type, offset: ref.offset, shape: ref.shape, stride: ref.stride, name: name)
        }
    }
}
