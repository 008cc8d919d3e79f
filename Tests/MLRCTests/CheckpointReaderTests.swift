import MLRCConvert
import MLRCRuntime
import XCTest

final class CheckpointReaderTests: XCTestCase {
    func testReadsEveryContainerFormat() throws {
        for e in try Fixtures.entries() {
            let sd = try StateDict.load(path: e.checkpoint)
            XCTAssertGreaterThan(sd.tensors.count, 20, e.name)
            XCTAssertFalse(sd.names.contains { $0.hasPrefix("module.") }, "DataParallel prefix stripped in \(e.name)")
        }
    }

    func testFindsTheStateDictInsideATrainingCheckpoint() throws {
        let e = try XCTUnwrap(try Fixtures.entries().first { $0.name == "mlrc_small_zip_dict" })
        let sd = try StateDict.load(path: e.checkpoint)
        XCTAssertEqual(sd.origin, "the 'model' entry")
        XCTAssertEqual(sd["head.weight"]?.shape, [1000, 64])
    }

    /// A pickle whose REDUCE calls os.system: the reader builds an inert placeholder and never runs it.
    func testMaliciousPickleIsInert() throws {
        let marker = "/tmp/mlrc-pickle-test-\(getpid())"
        let command = "touch \(marker)"
        var p: [UInt8] = [0x80, 0x02]
        p += Array("cos\nsystem\n".utf8)
        p += [0x58] + le32(command.utf8.count) + Array(command.utf8)
        p += [0x85, 0x52, 0x2E]  // TUPLE1, REDUCE, STOP
        var u = Unpickler(bytes: p) { _ in .none }
        let v = try u.load()
        guard case .object(let module, let name) = v else { return XCTFail("expected an inert object, got \(v)") }
        XCTAssertEqual(module + "." + name, "os.system")
        XCTAssertNotEqual(access(marker, F_OK), 0, "the command ran")

    }

    /// Checkpoints written by torch.save whose pickle calls os.system (tools/make_fixtures.py): refused, never run.
    func testMaliciousCheckpointsAreRefused() throws {
        let marker = "/tmp/mlrc-pwned-by-pickle"
        unlink(marker)
        for name in ["os_system_zip.pth", "os_system_legacy.pt", "os_system_state_dict.pth"] {
            XCTAssertThrowsError(try StateDict.load(path: Fixtures.root + "/malicious/" + name), name) { error in
                XCTAssertTrue("\(error)".contains("no state_dict"), "\(name): \(error)")
            }
        }
        XCTAssertNotEqual(access(marker, F_OK), 0, "a pickled command ran")
    }

    /// A list that contains itself (found by the fuzzer as a leak): freed once the result is dropped.
    func testSelfReferencingContainersDoNotLeak() throws {
        weak var list: PickleList?
        weak var dict: PickleDict?
        do {
            // PROTO 2, EMPTY_LIST, BINPUT 0, BINGET 0, APPEND, EMPTY_DICT, BINPUT 1, MARK, SHORT_BINUNICODE "d",
            // BINGET 1, SETITEMS, TUPLE2, STOP
            let p: [UInt8] = [
                0x80, 0x02, 0x5D, 0x71, 0x00, 0x68, 0x00, 0x61, 0x7D, 0x71, 0x01, 0x28, 0x8C, 0x01, 0x64,
                0x68, 0x01, 0x75, 0x86, 0x2E,
            ]
            var u = Unpickler(bytes: p) { _ in .none }
            let v = try u.load()
            guard let items = v.items, items.count == 2, case .list(let l) = items[0], case .dict(let d) = items[1]
            else {
                return XCTFail("unexpected \(v)")
            }
            XCTAssertEqual(l.items.count, 1)
            XCTAssertEqual(d.entries.count, 1)
            list = l
            dict = d
        }
        XCTAssertNil(list, "self-referencing list leaked")
        XCTAssertNil(dict, "self-referencing dict leaked")
    }

    func testTruncatedAndCorruptCheckpointsThrow() throws {
        for e in try Fixtures.entries() {
            let bytes = try FileBytes.read(e.checkpoint)
            for cut in [0, 1, 10, 100, bytes.count / 3, bytes.count / 2, bytes.count - 10] {
                let path = "/tmp/mlrc-trunc-\(getpid())"
                try FileBytes.write(path, Array(bytes[0..<cut]))
                XCTAssertThrowsError(try StateDict.load(path: path), "\(e.name) cut at \(cut)")
                unlink(path)
            }
        }
    }

    func testSafetensorsHeaderLies() throws {
        let header = #"{"w":{"dtype":"F32","shape":[1000,1000],"data_offsets":[0,16]}}"#
        var bytes = le64(header.utf8.count) + Array(header.utf8)
        bytes += [UInt8](repeating: 0, count: 16)
        let path = "/tmp/mlrc-st-\(getpid()).safetensors"
        try FileBytes.write(path, bytes)
        defer { unlink(path) }
        XCTAssertThrowsError(try StateDict.load(path: path))
    }

    /// Tuples nested 100,000 deep (freeing them would recurse) and a chain of nested tensor-subclass rebuilds:
    /// format errors at the depth limit. A dict whose keys are set over and over keeps one entry per key (and its
    /// keys are indexed, so the 300,000 SETITEMs take linear time).
    func testHostilePickleNestingAndDicts() throws {
        var deep: [UInt8] = [0x80, 0x02, 0x29] + [UInt8](repeating: 0x85, count: 100_000) + [0x2E]
        var u = Unpickler(bytes: deep) { _ in .none }
        XCTAssertThrowsError(try u.load()) { XCTAssertTrue("\($0)".contains("nested"), "\($0)") }
        // (_rebuild_from_type_v2, t, (_rebuild_from_type_v2, t, (...))) 2,000 levels, then REDUCE
        var chain: [UInt8] = [0x80, 0x02]
        let global = Array("ctorch._tensor\n_rebuild_from_type_v2\n".utf8)
        for _ in 0..<2000 { chain += [0x28] + global + [0x4E] }  // MARK, callable, type
        chain += [0x29]
        for _ in 0..<2000 { chain += [0x74] }  // close each level into a tuple
        chain += global + [0x86, 0x52, 0x2E]
        deep = chain
        u = Unpickler(bytes: deep) { _ in .none }
        XCTAssertThrowsError(try u.load())
        var dict: [UInt8] = [0x80, 0x02, 0x7D]
        for i in 0..<300_000 { dict += [0x8C, 1, UInt8(ascii: i % 2 == 0 ? "a" : "b"), 0x4B, UInt8(i % 200), 0x73] }
        dict += [0x2E]
        u = Unpickler(bytes: dict) { _ in .none }
        guard case .dict(let d) = try u.load() else { return XCTFail("expected a dict") }
        XCTAssertEqual(d.entries.count, 2)
        XCTAssertEqual(d["b"]?.int, 299_999 % 200)
    }

    /// Sizes a safetensors header may claim that overflow Int arithmetic: format errors, not traps.
    func testHostileSafetensorsSizesAreErrors() throws {
        func file(_ header: String, data: Int = 4) -> [UInt8] {
            let h = Array(header.utf8)
            return (0..<8).map { UInt8((h.count >> (8 * $0)) & 0xFF) } + h + [UInt8](repeating: 0, count: data)
        }
        let big = 2_147_483_647
        for shape in ["[1, \(big), \(big), \(big)]", "[\(big), \(big), \(big)]", "[\(big), \(big)]"] {
            let bytes = file("{\"w\": {\"dtype\": \"F32\", \"shape\": \(shape), \"data_offsets\": [0, 4]}}")
            XCTAssertTrue(Safetensors.looksLike(bytes))
            XCTAssertThrowsError(try Safetensors.load(bytes), shape) { error in
                XCTAssertEqual((error as? MLRCError)?.kind, .format, "\(error)")
            }
        }
    }

    /// Twenty safetensors entries that all point at the same 4 MB: 80 MB of tensors from a 4 MB file, past the
    /// budget (four times the file, at least 64 MiB): refused as a memory error before most are copied.
    func testTensorsMayNotOutgrowTheirFile() throws {
        let n = 1 << 20
        var header = "{"
        for i in 0..<20 {
            header +=
                "\(i == 0 ? "" : ", ")\"w\(i)\": {\"dtype\": \"F32\", \"shape\": [\(n)], \"data_offsets\": [0, \(4 * n)]}"
        }
        header += "}"
        let h = Array(header.utf8)
        let bytes = (0..<8).map { UInt8((h.count >> (8 * $0)) & 0xFF) } + h + [UInt8](repeating: 0, count: 4 * n)
        XCTAssertThrowsError(try StateDict.parse(bytes)) { error in
            XCTAssertEqual((error as? MLRCError)?.kind, .memory, "\(error)")
            XCTAssertTrue("\(error)".contains("--max-tensor-memory"), "\(error)")
        }
        // The same file with only three of the entries is fine (12 MB of tensors).
        let three = Array(
            ("{"
                + (0..<3).map { "\"w\($0)\": {\"dtype\": \"F32\", \"shape\": [\(n)], \"data_offsets\": [0, \(4 * n)]}" }
                .joined(separator: ", ") + "}").utf8)
        let ok = (0..<8).map { UInt8((three.count >> (8 * $0)) & 0xFF) } + three + [UInt8](repeating: 0, count: 4 * n)
        XCTAssertEqual(try StateDict.parse(ok).tensors.count, 3)
    }

    private func le32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * $0)) & 0xFF) } }
    private func le64(_ v: Int) -> [UInt8] { (0..<8).map { UInt8((v >> (8 * $0)) & 0xFF) } }
}
