#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif
import CMLRCABI
import CMLRCKernels
import MLRCRuntime

// The C ABI of include/mlrc.h. Every entry point validates its arguments before touching them and
// reports failures as statuses: nothing here may trap, because a trap kills the host program.

@_cdecl("mlrc_version")
public func mlrc_version() -> UnsafePointer<CChar> { UnsafePointer(CStrings.version) }

@_cdecl("mlrc_status_string")
public func mlrc_status_string(_ status: Int32) -> UnsafePointer<CChar> {
    guard status >= 0, Int(status) < CStrings.statuses.count else { return UnsafePointer(CStrings.unknownStatus) }
    return UnsafePointer(CStrings.statuses[Int(status)])
}

@_cdecl("mlrc_last_error")
public func mlrc_last_error() -> UnsafePointer<CChar> { ThreadError.current }

@_cdecl("mlrc_set_max_image_pixels")
public func mlrc_set_max_image_pixels(_ limit: UInt64) { Preprocessor.maxPixels = max(limit, 1) }

@_cdecl("mlrc_set_isa")
public func mlrc_set_isa(_ level: UnsafePointer<CChar>?) -> Int32 {
    guarded {
        guard let level else { throw MLRCError.argument("mlrc_set_isa: null level") }
        let isa = mlrc_isa_from_name(level)
        guard isa >= 0 else {
            throw MLRCError.argument(
                "mlrc_set_isa: unknown level '\(String(cString: level))' (auto, ref, avx2, avxvnni, avx512, neon, dotprod)"
            )
        }
        _ = mlrc_kernels_set_isa(isa)
    }
}

@_cdecl("mlrc_isa_level")
public func mlrc_isa_level() -> UnsafePointer<CChar> {
    let level = Int(mlrc_kernels_active_isa())
    return UnsafePointer(CStrings.isaLevels[level < CStrings.isaLevels.count ? level : 0])
}

private func publish(_ model: Model, _ out: UnsafeMutablePointer<OpaquePointer?>) throws {
    let handle = try ModelHandle(model)
    out.pointee = OpaquePointer(Unmanaged.passRetained(handle).toOpaque())
}

@_cdecl("mlrc_model_open")
public func mlrc_model_open(_ path: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    out?.pointee = nil
    return guarded {
        guard let path, let out else { throw MLRCError.argument("mlrc_model_open: null argument") }
        try publish(try Model(path: String(cString: path)), out)
    }
}

@_cdecl("mlrc_model_open_memory")
public func mlrc_model_open_memory(
    _ data: UnsafeRawPointer?, _ size: UInt,
    _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
    out?.pointee = nil
    return guarded {
        guard let data, let out else { throw MLRCError.argument("mlrc_model_open_memory: null argument") }
        guard size > 0 else { throw MLRCError.argument("mlrc_model_open_memory: size is 0") }
        guard let n = Int(exactly: size), n <= ModelBytes.maxSize else {
            throw MLRCError.argument(
                "mlrc_model_open_memory: size \(size) exceeds the largest model (\(ModelBytes.maxSize) bytes)")
        }
        try publish(try Model(copying: UnsafeRawBufferPointer(start: data, count: n)), out)
    }
}

@_cdecl("mlrc_model_close")
public func mlrc_model_close(_ model: OpaquePointer?) {
    guard let model else { return }
    Unmanaged<ModelHandle>.fromOpaque(UnsafeRawPointer(model)).release()
}

@_cdecl("mlrc_model_num_classes")
public func mlrc_model_num_classes(_ model: OpaquePointer?) -> Int32 {
    Int32(ModelHandle.from(model)?.model.numClasses ?? 0)
}

@_cdecl("mlrc_model_label")
public func mlrc_model_label(_ model: OpaquePointer?, _ index: Int32) -> UnsafePointer<CChar>? {
    guard let h = ModelHandle.from(model), index >= 0, Int(index) < h.labels.count else { return nil }
    return UnsafePointer(h.labels[Int(index)])
}

@_cdecl("mlrc_model_architecture")
public func mlrc_model_architecture(_ model: OpaquePointer?) -> UnsafePointer<CChar> {
    guard let h = ModelHandle.from(model) else { return UnsafePointer(CStrings.empty) }
    return UnsafePointer(h.architecture)
}

@_cdecl("mlrc_model_preprocessing")
public func mlrc_model_preprocessing(_ model: OpaquePointer?) -> UnsafePointer<CChar> {
    guard let h = ModelHandle.from(model) else { return UnsafePointer(CStrings.empty) }
    return UnsafePointer(h.preprocessing)
}

@_cdecl("mlrc_model_input_shape")
public func mlrc_model_input_shape(
    _ model: OpaquePointer?, _ channels: UnsafeMutablePointer<Int32>?,
    _ height: UnsafeMutablePointer<Int32>?, _ width: UnsafeMutablePointer<Int32>?
) -> Int32 {
    guarded {
        guard let h = ModelHandle.from(model) else { throw MLRCError.argument("mlrc_model_input_shape: null model") }
        guard channels != nil || height != nil || width != nil else {
            throw MLRCError.argument("mlrc_model_input_shape: all outputs null")
        }
        let s = h.model.inputShape
        channels?.pointee = Int32(s.channels)
        height?.pointee = Int32(s.height)
        width?.pointee = Int32(s.width)
    }
}

@_cdecl("mlrc_session_create")
public func mlrc_session_create(
    _ model: OpaquePointer?, _ threads: Int32,
    _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
    out?.pointee = nil
    return guarded {
        guard let h = ModelHandle.from(model), let out else {
            throw MLRCError.argument("mlrc_session_create: null argument")
        }
        guard threads >= 0 else { throw MLRCError.argument("mlrc_session_create: num_threads \(threads) < 0") }
        let session = try Session(model: h.model, threads: Int(threads))
        out.pointee = OpaquePointer(Unmanaged.passRetained(SessionHandle(session: session, modelHandle: h)).toOpaque())
    }
}

@_cdecl("mlrc_session_destroy")
public func mlrc_session_destroy(_ session: OpaquePointer?) {
    guard let session else { return }
    Unmanaged<SessionHandle>.fromOpaque(UnsafeRawPointer(session)).release()
}

@_cdecl("mlrc_session_error")
public func mlrc_session_error(_ session: OpaquePointer?) -> UnsafePointer<CChar> {
    guard let s = SessionHandle.from(session), let e = s.error else { return UnsafePointer(CStrings.empty) }
    return UnsafePointer(e)
}

@_cdecl("mlrc_run")
public func mlrc_run(
    _ session: OpaquePointer?, _ input: UnsafePointer<Float>?, _ inputCount: UInt,
    _ logits: UnsafeMutablePointer<Float>?, _ logitsCount: UInt
) -> Int32 {
    let s = SessionHandle.from(session)
    return exclusive(s) {
        guarded(s) {
            guard let s else { throw MLRCError.argument("mlrc_run: null session") }
            guard let input, let logits else { throw MLRCError.argument("mlrc_run: null input or logits") }
            let expected = s.session.model.inputShape.count
            guard inputCount == UInt(expected) else {
                throw MLRCError.argument("mlrc_run: input_count \(inputCount), the model takes \(expected) (C*H*W)")
            }
            guard logitsCount == UInt(s.session.model.numClasses) else {
                throw MLRCError.argument(
                    "mlrc_run: logits_count \(logitsCount), the model has \(s.session.model.numClasses) classes")
            }
            s.session.run(nchw: input, logits: logits)
            if let error = s.session.kernelError { throw MLRCError(.internal, error) }
            s.setError("")
        }
    }
}

/// Runs a session call as the session's only user: a call from a second thread while one runs gets
/// MLRC_ERR_ARGUMENT (and the session's own state, its error message included, is left to the first).
private func exclusive(_ s: SessionHandle?, _ body: () -> Int32) -> Int32 {
    guard let s else { return body() }
    if let status = s.exclusively(body) { return status }
    return guarded { throw MLRCError.argument("session used from two threads at once (use one session per thread)") }
}

/// Writes the top k predictions into the caller's mlrc_prediction array (the struct as mlrc.h declares it).
private func writePredictions(_ s: SessionHandle, _ top: UnsafeMutableRawPointer, _ k: Int) {
    let predictions = s.logits.withUnsafeBufferPointer { Classification.top(k, logits: $0) }
    let slots = top.bindMemory(to: mlrc_prediction.self, capacity: k)
    for (i, p) in predictions.enumerated() {
        slots[i] = mlrc_prediction(
            index: Int32(p.index), probability: p.probability,
            label: UnsafePointer(s.modelHandle.labels[p.index]))
    }
}

private func checkTop(_ s: SessionHandle, _ top: UnsafeMutableRawPointer?, _ k: Int32) throws -> UnsafeMutableRawPointer
{
    guard let top else { throw MLRCError.argument("null predictions array") }
    guard k >= 1, Int(k) <= s.session.model.numClasses else {
        throw MLRCError.argument("k = \(k) out of range 1...\(s.session.model.numClasses)")
    }
    return top
}

@_cdecl("mlrc_classify_rgb")
public func mlrc_classify_rgb(
    _ session: OpaquePointer?, _ rgb: UnsafePointer<UInt8>?, _ width: Int32, _ height: Int32,
    _ rowStride: Int32, _ top: UnsafeMutableRawPointer?, _ k: Int32
) -> Int32 {
    let s = SessionHandle.from(session)
    return exclusive(s) {
        guarded(s) {
            guard let s else { throw MLRCError.argument("mlrc_classify_rgb: null session") }
            guard let rgb else { throw MLRCError.argument("mlrc_classify_rgb: null image") }
            let out = try checkTop(s, top, k)
            guard width > 0, height > 0 else {
                throw MLRCError.argument("image size \(width)x\(height) is not positive")
            }
            guard Int(rowStride) >= 3 * Int(width) else {
                throw MLRCError.argument("row_stride \(rowStride) is less than 3 * width (\(3 * Int(width)))")
            }
            try s.logits.withUnsafeMutableBufferPointer { buf in
                guard let logits = buf.baseAddress else { throw MLRCError(.internal, "model without classes") }
                try s.session.run(
                    rgb: rgb, width: Int(width), height: Int(height), rowStride: Int(rowStride), logits: logits)
            }
            writePredictions(s, out, Int(k))
            s.setError("")
        }
    }
}

@_cdecl("mlrc_classify_jpeg")
public func mlrc_classify_jpeg(
    _ session: OpaquePointer?, _ jpeg: UnsafeRawPointer?, _ size: UInt,
    _ top: UnsafeMutableRawPointer?, _ k: Int32
) -> Int32 {
    let s = SessionHandle.from(session)
    return exclusive(s) {
        guarded(s) {
            guard let s else { throw MLRCError.argument("mlrc_classify_jpeg: null session") }
            guard let jpeg else { throw MLRCError.argument("mlrc_classify_jpeg: null data") }
            let out = try checkTop(s, top, k)
            guard size > 0 else { throw MLRCError(.image, "empty JPEG data") }
            guard let n = Int(exactly: size), n <= Int(Int32.max) else {
                throw MLRCError(.image, "JPEG data of \(size) bytes: more than a JPEG decoder takes (2 GiB)")
            }
            let image = try RGBImage(jpeg: UnsafeRawBufferPointer(start: jpeg, count: n))
            try s.logits.withUnsafeMutableBufferPointer { buf in
                guard let logits = buf.baseAddress else { throw MLRCError(.internal, "model without classes") }
                try s.session.run(
                    rgb: image.pixels, width: image.width, height: image.height, rowStride: 3 * image.width,
                    logits: logits)
            }
            writePredictions(s, out, Int(k))
            s.setError("")
        }
    }
}
