import Foundation
import TandemCommands
import TandemCore
import TandemLearning

extension BenchCommand.Train {
    /// The reference implementations, measured in the same run on the same rows, threads and OpenBLAS kernel:
    /// numpy running the trainer's loop, onnxruntime running the scorer's model. Each is a script under
    /// Tests/Reference run with `python3`; a missing interpreter or package is reported, not fatal.
    struct References: Encodable {
        var numpyExamplesPerSecond: Double?
        var numpyBLAS: String?
        var onnxPairsPerSecond: Double?
        var onnxP50Micros: Double?
        var onnxP99Micros: Double?
        var onnxVersion: String?
        var notes: [String] = []

        static func measure(
            train: RankingDataset, settings: TrainingSettings, model: RankerModel, test: RankingDataset, work: String,
            threads: Int
        ) throws -> References {
            let folder = (work as NSString).appendingPathComponent("reference-\(UUID().uuidString)")
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: folder) }
            func write<T>(_ values: [T], _ name: String) throws {
                try values.withUnsafeBytes { Data($0) }.write(to: URL(fileURLWithPath: folder + "/" + name))
            }
            try write(train.features, "x.f32")
            try write(train.labels, "labels.i8")
            try write((0..<train.groups.count).map { Int32(train.groups.range($0).count) }, "groups.i32")
            let meta: [String: Any] = [
                "rows": train.rows, "width": train.width, "hidden": settings.kind == .linear ? [] : settings.hidden,
                "batch_queries": settings.batchQueries, "seed": settings.seed,
            ]
            try JSONSerialization.data(withJSONObject: meta).write(to: URL(fileURLWithPath: folder + "/meta.json"))
            try write(model.parameters, "params.f32")
            try write(model.mean, "mean.f32")
            try write(model.scale, "scale.f32")
            try write(test.features, "test.f32")
            try JSONSerialization.data(withJSONObject: ["sizes": model.sizes]).write(
                to: URL(fileURLWithPath: folder + "/model.json"))

            var r = References()
            Terminal.note("reference: numpy, the same loop, 1 epoch…")
            switch run("Tests/Reference/numpy_listnet.py", [folder, "--epochs", "1", "--threads", String(threads)]) {
            case .success(let doc):
                r.numpyExamplesPerSecond = doc["examples_per_second"] as? Double
                r.numpyBLAS = doc["blas"] as? String
            case .failure(let f): r.notes.append("numpy: \(f.note)")
            }
            Terminal.note("reference: onnxruntime, the same model…")
            switch run("Tests/Reference/onnx_scorer.py", [folder, "--threads", String(threads)]) {
            case .success(let doc):
                r.onnxPairsPerSecond = doc["pairs_per_second"] as? Double
                r.onnxP50Micros = doc["p50_micros"] as? Double
                r.onnxP99Micros = doc["p99_micros"] as? Double
                r.onnxVersion = doc["onnxruntime"] as? String
            case .failure(let f): r.notes.append("onnxruntime: \(f.note)")
            }
            return r
        }

        static func run(_ script: String, _ arguments: [String]) -> Result<[String: Any], ReferenceScript.Failure> {
            ReferenceScript.run(script, arguments, install: "numpy onnx onnxruntime")
        }
    }
}

/// A reference implementation under Tests/Reference, run with `python3` in the same session as the measurement.
enum ReferenceScript {
    struct Failure: Error { var note: String }

    /// Runs `script` with `python3` (inheriting OPENBLAS_CORETYPE) and parses its last line of output as JSON.
    /// Its errors go to a scratch file (read when it fails), so a talkative script cannot block on a full pipe.
    /// A failure names the packages to install: a reference is reported missing, never fatal.
    static func run(_ script: String, _ arguments: [String], install: String) -> Result<[String: Any], Failure> {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script] + arguments
        let out = Pipe()
        let errorPath = NSTemporaryDirectory() + "tandem-reference-\(UUID().uuidString).err"
        _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: errorPath) }
        process.standardOutput = out
        process.standardError = FileHandle(forWritingAtPath: errorPath)
        do { try process.run() } catch { return .failure(Failure(note: "python3 does not start (\(error))")) }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let last = String(decoding: data, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
        guard process.terminationStatus == 0,
            let doc = try? JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any]
        else {
            let errors = (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
            let why = errors.split(separator: "\n").last.map(String.init) ?? "no output"
            return .failure(Failure(note: "\(script) failed (\(why)); pip install \(install)"))
        }
        return .success(doc)
    }
}
