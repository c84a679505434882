import Foundation
import TandemCore
import TandemTestSupport
import Testing

/// Starts a stage binary without waiting for it.
func launch(_ repo: ScratchRepository, _ executable: String, _ arguments: [String]) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: Binaries.folder + "/" + executable)
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: repo.root)
    var environment = ProcessInfo.processInfo.environment
    environment["TANDEM_ENV"] = nil
    environment["TANDEM_PROJECT"] = nil
    process.environment = environment
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    return process
}

/// The staging entries (files and folders whose name starts with `.staging-`) anywhere under `root`.
func stagingEntries(_ root: String) -> [String] {
    let walker = FileManager.default.enumerator(atPath: root)
    var found: [String] = []
    while let relative = walker?.nextObject() as? String {
        if (relative as NSString).lastPathComponent.hasPrefix(".staging-") { found.append(relative) }
    }
    return found.sorted()
}

/// Waits until `condition` holds or `seconds` pass; returns whether it held.
func waitUntil(_ seconds: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(2_000)
    }
    return condition()
}

/// Kills a process with SIGKILL and reaps it.
func killNine(_ process: Process) {
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
}

@Suite("Leftovers of killed runs are reclaimed")
struct LeftoversBinaryTests {
    @Test("30 ETLs killed with SIGKILL mid-write leave no staging after the next run; a live owner's staging is kept")
    func killedETLs() async throws {
        let repo = try ScratchRepository()
        defer { repo.remove() }
        let input = repo.root + "/big"
        let fixtures = try await repo.run("tandem-fixtures", ["generate", "--queries", "800", "--out", input])
        #expect(fixtures.status == 0, "\(fixtures.stderr)")
        let root = repo.root + "/.tandem/test/features"
        let leftBefore: [String] = try await offPool {
            for _ in 0..<30 {
                let earlier = Set(stagingEntries(root))
                let etl = try launch(repo, "tandem-etl", ["--env", "test", "--input", input])
                // Killed once it writes silver and gold under staging names of its own: mid-write or mid-registration.
                _ = waitUntil(60) {
                    stagingEntries(root).contains { ($0.hasPrefix("silver/") || $0.hasPrefix("gold/")) && !earlier.contains($0) }
                        || !etl.isRunning
                }
                usleep(UInt32.random(in: 0...200_000))
                killNine(etl)
            }
            return stagingEntries(root)
        }
        #expect(!leftBefore.isEmpty, "no killed ETL left staging behind; the test did not exercise anything")
        print("30 killed ETLs: \(leftBefore.count) staging entries on disk before the next run")

        // Staging of processes that still run (this test's own), of another host, and of a dead owner.
        let me = ProcessIdentity.current
        let live = root + "/gold/.staging-\(me.token)-live"
        let otherHost = root + "/gold/.staging-\(me.pid)-\(me.start)-00000000-elsewhere"
        let dead = root + "/gold/.staging-\(me.pid)-\(me.start + 1)-\(me.hostTag)-dead"
        for folder in [live, otherHost, dead] {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        let next = try await repo.run("tandem-etl", ["--env", "test", "--input", input])
        #expect(next.status == 0, "\(next.stderr)")
        #expect(
            stagingEntries(root)
                == ["gold/" + (live as NSString).lastPathComponent, "gold/" + (otherHost as NSString).lastPathComponent].sorted())
        #expect(!FileManager.default.fileExists(atPath: dead))
    }

    @Test(
        "a training killed with SIGKILL stays RUNNING only until `tandem jobs recover` or the next `tandem train`: then FAILED (killed)"
    )
    func killedTraining() async throws {
        let repo = try await trainedRepository()
        defer { repo.remove() }
        func killOne() async throws -> String {
            try await offPool {
                let train = try launch(
                    repo, "tandem-train",
                    ["--env", "test", "--set", "training.max_epochs=10000", "--set", "training.patience=10000", "--no-lock"])
                var running: String?
                _ = waitUntil(60) {
                    guard let list = try? Binaries.run("tandem-runs", ["list", "--env", "test", "--json"], in: repo.root),
                        let runs = try? JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]]
                    else { return false }
                    running = runs.first { $0["status"] as? String == "RUNNING" }?["id"] as? String
                    return running != nil
                }
                killNine(train)
                return running ?? ""
            }
        }
        func status(_ id: String) async throws -> String? {
            let show = try await repo.run("tandem-runs", ["show", "--env", "test", id, "--json"])
            return (try json(show.stdout)["run"] as? [String: Any])?["status"] as? String
        }

        let first = try await killOne()
        #expect(!first.isEmpty, "the training never showed a RUNNING run")
        #expect(try await status(first) == "RUNNING")
        let recover = try await repo.run("tandem-jobs", ["recover", "--env", "test", "--json"])
        #expect(recover.status == 0, "\(recover.stderr)")
        #expect(try json(recover.stdout)["runs"] as? [String] == [first], "\(recover.stdout)")
        #expect(try await status(first) == "FAILED")
        let show = try json(try await repo.run("tandem-runs", ["show", "--env", "test", first, "--json"]).stdout)
        let tags = (show["run"] as? [String: Any])?["tags"] as? [String: String]
        #expect(tags?["tandem.failure"]?.hasPrefix("killed") == true, "\(show)")

        let second = try await killOne()
        #expect(try await status(second) == "RUNNING")
        let train = try await repo.run("tandem-train", ["--env", "test", "--set", "training.max_epochs=1", "--no-lock"])
        #expect(train.status == 0, "\(train.stderr)")
        #expect(try await status(second) == "FAILED")
    }
}
