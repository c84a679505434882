import Foundation
import TandemCore
import TandemTestSupport
import Testing

@testable import TandemProfiles

/// Runs `body`, expecting a located `ProfileError` with exit status 2, and checks it took under `seconds` and
/// grew the process by less than `bytes`.
func expectBoundedRefusal(
    seconds: Double = 2, growth bytes: Int = 256 << 20, _ what: String, _ body: () throws -> Void
) -> ProfileError? {
    let clock = ContinuousClock()
    let started = clock.now
    let (refusal, growth) = peakMemoryGrowth { () -> ProfileError? in
        do { try body() } catch let error as ProfileError { return error } catch { Issue.record("\(what): \(error)") }
        return nil
    }
    let took = (clock.now - started).seconds
    #expect(took < seconds, "\(what): took \(took) s")
    #expect(growth < bytes, "\(what): grew by \(growth >> 20) MiB at its peak")
    guard let refusal else {
        Issue.record("\(what): was accepted")
        return nil
    }
    #expect(refusal.exitStatus == .badInput, "\(what): \(refusal)")
    #expect(refusal.description.hasPrefix("\(refusal.location): "), "\(what): \(refusal)")
    #expect(refusal.description.contains("; "), "\(what): a refusal says what to do: \(refusal)")
    return refusal
}

/// A billion laughs: `levels` lines, each a list of `width` aliases of the line before.
func aliasBomb(levels: Int, width: Int, key: String = "bomb") -> String {
    var lines = ["l0: &l0 [" + Array(repeating: "\"lol\"", count: width).joined(separator: ",") + "]"]
    for level in 1..<levels {
        lines.append("l\(level): &l\(level) [" + Array(repeating: "*l\(level - 1)", count: width).joined(separator: ",") + "]")
    }
    lines.append("\(key): *l\(levels - 1)")
    return lines.joined(separator: "\n") + "\n"
}

@Suite("Bounded YAML: aliases, size and depth are refused before the document is composed")
struct BoundedYAMLTests {
    @Test("the 10-line alias bomb is refused at its first anchor, in milliseconds")
    func aliasBombRefused() throws {
        let text = validProfile() + aliasBomb(levels: 9, width: 9)
        let refusal = expectBoundedRefusal("alias bomb") {
            _ = try ProfileSet.decodeSingle(text, name: "test", file: "environments/test.yaml")
        }
        #expect(refusal?.location == SourceLocation(file: "environments/test.yaml", line: 27, column: 5))
        #expect(refusal?.description.contains("anchors and aliases are not supported") == true)
    }

    @Test("aliases as mapping keys (whose duplicate check hashes whole nodes) are refused as fast")
    func aliasKeys() throws {
        let bomb = aliasBomb(levels: 8, width: 9).replacingOccurrences(of: "description: *l7\n", with: "")
        let text = bomb + "x:\n  ? *l7\n  : 1\n  ? *l6\n  : 2\n"
        _ = expectBoundedRefusal("alias keys") { _ = try YAMLTree.parse(text, file: "environments/test.yaml") }
    }

    @Test("an alias alone, or an anchor with no alias, is refused where it is written")
    func singleAlias() throws {
        let anchored = validProfile().replacingOccurrences(of: "  required: 1", with: "  required: &one 1")
        let refusal = expectBoundedRefusal("anchor") {
            _ = try ProfileSet.decodeSingle(anchored, name: "test", file: "environments/test.yaml")
        }
        #expect(refusal?.location.line == 18)
        #expect(refusal?.location.column == 13)
    }

    @Test("a document nested deeper than the limit is refused at the level too many, without recursing")
    func tooDeep() throws {
        let limit = InputLimits.yamlDepth
        #expect(throws: Never.self) {
            _ = try YAMLTree.parse(
                "a: " + String(repeating: "[", count: limit - 1) + String(repeating: "]", count: limit - 1), file: "f.yaml")
        }
        let refusal = expectBoundedRefusal("depth \(limit + 1)") {
            _ = try YAMLTree.parse(
                "a: " + String(repeating: "[", count: limit) + String(repeating: "]", count: limit), file: "f.yaml")
        }
        #expect(refusal?.location == SourceLocation(file: "f.yaml", line: 1, column: 4 + limit - 1))
        // Half a million levels: deep enough to overflow the stack of any recursive composer.
        let deep = String(repeating: "[", count: 500_000)
        _ = expectBoundedRefusal("depth 500000") { _ = try YAMLTree.parse(deep, file: "f.yaml") }
        let block = (0..<200).map { String(repeating: "  ", count: $0) + "k\($0):" }.joined(separator: "\n") + " x\n"
        _ = expectBoundedRefusal("block depth 200") { _ = try YAMLTree.parse(block, file: "f.yaml") }
    }

    @Test("a document over 1 MiB is refused where the limit falls, and a huge file is not read past it")
    func tooLarge() throws {
        let line = "# " + String(repeating: "x", count: 98) + "\n"
        let text = validProfile() + String(repeating: line, count: (InputLimits.yamlBytes / line.utf8.count) + 1)
        let refusal = expectBoundedRefusal("1 MiB + a line") {
            _ = try ProfileSet.decodeSingle(text, name: "test", file: "environments/test.yaml")
        }
        #expect(refusal?.description.contains("larger than 1 MiB") == true)
        let offset = InputLimits.yamlBytes - validProfile().utf8.count
        #expect(refusal?.location.line == 27 + offset / line.utf8.count)
        #expect(refusal?.location.column == offset % line.utf8.count + 1)

        let repo = try TemporaryRepository(["test": validProfile()])
        defer { repo.remove() }
        // 4 GiB that take no disk: a sparse file.
        let huge = repo.root + "/environments/dev.yaml"
        #expect(FileManager.default.createFile(atPath: huge, contents: Data("description: x\n".utf8)))
        #expect(truncate(huge, 4 << 30) == 0)
        let hugeRefusal = expectBoundedRefusal("a 4 GiB profile") { _ = try ProfileSet.load(repositoryRoot: repo.root) }
        #expect(hugeRefusal?.location.file == "environments/dev.yaml")
        try FileManager.default.removeItem(atPath: huge)
        // A link to an endless device, and a FIFO nobody writes: refused, not read or waited on.
        try FileManager.default.createSymbolicLink(atPath: huge, withDestinationPath: "/dev/zero")
        let device = expectBoundedRefusal("a link to /dev/zero") { _ = try ProfileSet.load(repositoryRoot: repo.root) }
        #expect(device?.description.contains("not a regular file") == true)
        try FileManager.default.removeItem(atPath: huge)
        #expect(mkfifo(huge, 0o600) == 0)
        let fifo = expectBoundedRefusal("a FIFO") { _ = try ProfileSet.load(repositoryRoot: repo.root) }
        #expect(fifo?.description.contains("not a regular file") == true)
    }

    @Test("extending a profile of 50,000 keys with another merges in linear time")
    func largeMerge() throws {
        let here = SourceLocation(file: "f.yaml", line: 1, column: 1)
        func mapping(_ prefix: String, _ n: Int) -> YAMLTree {
            .mapping(
                (0..<n).map {
                    YAMLTree.Entry(key: "\(prefix)\($0)", keyLocation: here, value: .scalar("1", quoted: false, here))
                },
                here)
        }
        // Linear time, as a ratio measured in the same process (not a wall-clock bound, which a loaded machine
        // breaks): ten times the keys may take at most 30 times as long (linear is ≈ 10, quadratic ≈ 100); each
        // size's best of three runs.
        let clock = ContinuousClock()
        func seconds(_ n: Int) -> Double {
            let (base, overlay, more) = (mapping("k", n), mapping("k", n), mapping("j", n))
            return (0..<3).map { _ in
                let started = clock.now
                _ = base.merged(with: overlay.merged(with: more))
                return (clock.now - started).seconds
            }.min() ?? 0
        }
        let (small, large) = (seconds(5_000), seconds(50_000))
        #expect(large < 30 * max(small, 1e-4), "5,000 keys: \(small) s; 50,000 keys: \(large) s")
        let merged = mapping("k", 50_000).merged(with: mapping("k", 50_000).merged(with: mapping("j", 50_000)))
        guard case .mapping(let entries, _) = merged else { return }
        #expect(entries.count == 100_000)
        #expect(entries.first?.key == "k0" && entries.last?.key == "j49999")
    }

    @Test("training configurations, sweeps and --set overrides are held to the same bounds")
    func otherDocuments() throws {
        let folder = NSTemporaryDirectory() + "tandem-bounded-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let bomb = aliasBomb(levels: 9, width: 9, key: "model")
        try bomb.write(toFile: folder + "/config.yaml", atomically: true, encoding: .utf8)
        try bomb.write(toFile: folder + "/sweep.yaml", atomically: true, encoding: .utf8)
        let config = expectBoundedRefusal("config") {
            _ = try TrainingConfig.load(path: folder + "/config.yaml", displayName: "models/relevance.yaml")
        }
        #expect(config?.location == SourceLocation(file: "models/relevance.yaml", line: 1, column: 5))
        _ = expectBoundedRefusal("sweep") {
            _ = try SweepSpec.load(path: folder + "/sweep.yaml", displayName: "models/sweep.yaml")
        }
        try "model: m\n".write(toFile: folder + "/ok.yaml", atomically: true, encoding: .utf8)
        let override = expectBoundedRefusal("--set") {
            _ = try TrainingConfig.load(path: folder + "/ok.yaml", displayName: "ok.yaml", overrides: ["training.hidden=*x"])
        }
        #expect(override?.location.file == "--set training.hidden=*x")
    }

    @Test("a sweep grid larger than a sweep may run is refused at `parameters`; random picks stay as before")
    func sweepGrid() throws {
        let folder = NSTemporaryDirectory() + "tandem-sweep-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let values = "[" + (1...10).map(String.init).joined(separator: ", ") + "]"
        let parameters = (0..<5).map { "  training.p\($0): \(values)" }.joined(separator: "\n")
        try "parameters:\n\(parameters)\n".write(toFile: folder + "/grid.yaml", atomically: true, encoding: .utf8)
        let grid = expectBoundedRefusal("a 10^5 grid") {
            _ = try SweepSpec.load(path: folder + "/grid.yaml", displayName: "grid.yaml")
        }
        #expect(grid?.location == SourceLocation(file: "grid.yaml", line: 2, column: 3))
        #expect(grid?.description.contains("10 × 10 × 10 × 10 × 10 values) has 100000 combinations") == true)
        // Thirty parameters of ten values: 10^30 combinations, drawn from without building them.
        let wide = (0..<30).map { "  training.p\($0): \(values)" }.joined(separator: "\n")
        try "method: random\ntrials: 5\nparameters:\n\(wide)\n".write(
            toFile: folder + "/wide.yaml", atomically: true, encoding: .utf8)
        let wideRefusal = expectBoundedRefusal("10^30 combinations") {
            _ = try SweepSpec.load(path: folder + "/wide.yaml", displayName: "wide.yaml")
        }
        #expect(wideRefusal?.description.contains("over 2^62") == true)
        // A random search over a small grid draws what drawing from the whole list drew.
        let spec = SweepSpec(
            method: .random, trials: 7, parallel: 1, metric: "ndcg@10", seed: 11,
            parameters: [("a", ["1", "2", "3"]), ("b", ["x", "y"]), ("c", ["p", "q", "r", "s"])])
        var combos: [[String]] = [[]]
        for p in spec.parameters { combos = combos.flatMap { c in p.values.map { c + ["\(p.key)=\($0)"] } } }
        var state = spec.seed
        var pool = combos
        var expected: [[String]] = []
        while expected.count < spec.trials && !pool.isEmpty {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            expected.append(pool.remove(at: Int((z ^ (z >> 31)) % UInt64(pool.count))))
        }
        #expect(spec.trialOverrides() == expected)
        var all = spec
        all.method = .grid
        #expect(all.trialOverrides() == combos)
    }
}
