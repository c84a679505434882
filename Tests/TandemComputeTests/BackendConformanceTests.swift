import Foundation
import Testing

@testable import TandemCompute

enum Kind: String, CaseIterable, Sendable { case local, slurm }

let kinds: [Kind] = ProcessInfo.processInfo.environment["TANDEM_TEST_NO_SLURM"] == "1" ? [.local] : (SlurmCluster.enabled ? [.local, .slurm] : [.local])

/// The conformance suite every compute backend passes: `local://`, and `slurm://` against a real cluster.
@Suite("Compute backend conformance", .serialized)
struct BackendConformanceTests {
    let folder = NSTemporaryDirectory() + "tandem-jobs-\(UUID().uuidString.prefix(8))"

    func backend(_ kind: Kind) throws -> any ComputeBackend {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        switch kind {
        case .local: return LocalBackend(maxJobs: 2)
        case .slurm:
            guard let cluster = SlurmCluster.shared else { throw ComputeError("the Slurm cluster did not start") }
            return SlurmBackend(options: ["conf": cluster.conf])
        }
    }

    func job(_ name: String, _ script: String, array: Int? = nil, seconds: Int? = nil, env: [String: String] = [:]) -> ComputeJob {
        ComputeJob(name: name, executable: "/bin/sh", arguments: ["-c", script], environment: env, workingDirectory: folder,
                   logDirectory: folder + "/logs", arrayCount: array, timeLimitSeconds: seconds)
    }

    @Test("a job runs, with its environment, and its log is collected", arguments: kinds)
    func single(_ kind: Kind) throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let results = try backend(kind).run(job("hello", "echo hello $GREETING; pwd", env: ["GREETING": "world"]))
        #expect(results.count == 1)
        #expect(results[0].outcome == .completed && results[0].exitStatus == 0)
        #expect(results[0].log?.contains("hello world") == true, "\(results[0].logPath)")
        #expect(results[0].log?.contains(folder) == true)
    }

    @Test("an array runs one task per index, each with TANDEM_ARRAY_INDEX", arguments: kinds)
    func array(_ kind: Kind) throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let results = try backend(kind).run(job("array", "echo task=$TANDEM_ARRAY_INDEX", array: 3))
        #expect(results.map(\.task) == [0, 1, 2])
        #expect(results.allSatisfy { $0.outcome == .completed })
        for r in results { #expect(r.log?.contains("task=\(r.task ?? -1)") == true) }
    }

    @Test("a failing job reports its exit code, which becomes Tandem's", arguments: kinds)
    func failure(_ kind: Kind) throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let r = try backend(kind).run(job("fails", "echo about to fail; exit 4"))[0]
        #expect(r.outcome == .failed && r.exitCode == 4 && r.exitStatus == 4)
        #expect(r.log?.contains("about to fail") == true)
    }

    @Test("a cancelled job ends cancelled, and leaves nothing running", arguments: kinds)
    func cancel(_ kind: Kind) throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let b = try backend(kind)
        let start = Date()
        let r = try b.run(job("sleeper", "sleep 120"), shouldCancel: { Date().timeIntervalSince(start) > 1.5 })[0]
        #expect(r.outcome == .cancelled && r.exitStatus == 3)
        #expect(Date().timeIntervalSince(start) < 30)
        #expect(try b.active(namePrefix: "sleeper").isEmpty)
    }

    @Test("a job that cannot launch says why and where its log would be", arguments: kinds)
    func launchFailure(_ kind: Kind) throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let b = try backend(kind)
        var j = job("nowhere", "true")
        j.workingDirectory = folder + "/missing"
        do {
            let r = try b.run(j)[0]
            #expect(r.outcome == .launchFailed || r.outcome == .failed, "\(r)")
            #expect(r.exitStatus == 3)
            #expect(r.reason != nil)
        } catch let e as ComputeError {
            #expect(e.description.contains("missing"))
            #expect(e.exitStatus == .infrastructure)
        }
    }

    @Test("secrets pass by name: the job sees the value, the job script never holds it", arguments: kinds)
    func secrets(_ kind: Kind) throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        setenv("TANDEM_TEST_SECRET", "s3cr3t-value-42", 1)
        defer { unsetenv("TANDEM_TEST_SECRET") }
        var j = job("secret", "echo seen=$TANDEM_TEST_SECRET")
        j.passVariables = ["TANDEM_TEST_SECRET"]
        let r = try backend(kind).run(j)[0]
        #expect(r.log?.contains("seen=s3cr3t-value-42") == true)
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder + "/logs")) ?? []
        for f in files where f.hasSuffix(".sh") {
            #expect(!(try String(contentsOfFile: folder + "/logs/" + f, encoding: .utf8)).contains("s3cr3t"))
        }
    }

    @Test("a job over its time limit ends as a timeout", arguments: kinds)
    func timeout(_ kind: Kind) throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let r = try backend(kind).run(job("slow", "sleep 300", seconds: kind == .local ? 1 : 5))[0]
        #expect(r.outcome == .timeout && r.exitStatus == 3)
    }

    @Test("a controller that does not answer is exit 3 naming it")
    func controllerDown() throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try "ClusterName=x\nSlurmctldHost=localhost\nSlurmctldPort=1\n".write(toFile: folder + "/slurm.conf", atomically: true, encoding: .utf8)
        guard SlurmCluster.installed else { return }
        let b = SlurmBackend(options: ["conf": folder + "/slurm.conf"])
        do {
            _ = try b.submit(job("x", "true"))
            Issue.record("submitted to a controller that is down")
        } catch let e as ComputeError {
            #expect(e.exitStatus == .infrastructure)
            #expect(e.description.contains("controller") || e.description.contains("slurmctld"), "\(e)")
        }
    }
}
