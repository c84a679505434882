import Foundation
import TandemCore
import TandemTestSupport
import Testing

@testable import TandemProfiles

@Suite("Profile loader fuzzing")
struct ProfileFuzzTests {
    /// The seed: `TANDEM_FUZZ_SEED` when set (to replay a failure), else a new one each run, printed either way.
    static func seed() -> UInt64 {
        if let text = ProcessInfo.processInfo.environment["TANDEM_FUZZ_SEED"], let seed = UInt64(text) { return seed }
        return UInt64.random(in: 0...UInt64.max)
    }

    /// Feeds truncated, mutated and random YAML to the loader: it never crashes; it either loads or throws a
    /// located ProfileError with exit status 2. Every failure names the seed and the round, to replay it with
    /// `TANDEM_FUZZ_SEED=SEED swift test --filter ProfileFuzzTests`.
    @Test("random and truncated YAML never crashes and always gives a located error")
    func fuzz() {
        let seed = Self.seed()
        print("ProfileFuzzTests: TANDEM_FUZZ_SEED=\(seed)")
        var rng = SeededGenerator(seed: seed)
        let base = Array(validProfile().utf8)
        let alphabet = Array(":-[]{}#&*!|>'\"%@` \n\tabc01.~?,".utf8)
        var refused = 0
        for round in 0..<1500 {
            var bytes: [UInt8]
            switch round % 4 {
            case 0: bytes = Array(base.prefix(Int.random(in: 0...base.count, using: &rng)))
            case 1:
                bytes = base
                for _ in 0..<Int.random(in: 1...6, using: &rng) {
                    bytes[Int.random(in: 0..<bytes.count, using: &rng)] = alphabet.randomElement(using: &rng) ?? 0x20
                }
            case 2:
                bytes = (0..<Int.random(in: 0...200, using: &rng)).map { _ in alphabet.randomElement(using: &rng) ?? 0x20 }
            default:
                bytes = base
                let cut = Int.random(in: 0..<bytes.count, using: &rng)
                bytes.insert(contentsOf: Array("\n  - [x: {y\n".utf8), at: cut)
            }
            let text = String(decoding: bytes, as: UTF8.self)
            do {
                _ = try ProfileSet.decodeSingle(text, name: "test", file: "environments/test.yaml")
            } catch {
                refused += 1
                let replay = "TANDEM_FUZZ_SEED=\(seed), round \(round), input \(text.debugDescription)"
                #expect(error.exitStatus == .badInput, "\(replay)")
                #expect(error.location.file == "environments/test.yaml", "\(replay)")
                #expect(error.location.line >= 1 && error.location.column >= 1, "\(replay)")
                #expect(
                    error.description.hasPrefix("environments/test.yaml:\(error.location.line):\(error.location.column): "),
                    "\(replay)")
            }
        }
        #expect(refused > 1000, "TANDEM_FUZZ_SEED=\(seed)")
    }

    /// Hostile documents: alias bombs of random depth and width placed anywhere in a valid profile (as values,
    /// list items or mapping keys), documents just over the size limit, and nesting past the depth limit, block or
    /// flow. Each is refused with a located error (exit 2) within 2 s, and the process grows by less than 256 MiB
    /// over all of them. Replay with `TANDEM_FUZZ_SEED`.
    @Test("alias bombs, huge and deep documents are refused quickly, located, in bounded memory")
    func hostileDocuments() {
        let seed = Self.seed()
        print("ProfileFuzzTests.hostileDocuments: TANDEM_FUZZ_SEED=\(seed)")
        var rng = SeededGenerator(seed: seed)
        let base = validProfile().split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let (_, growth) = peakMemoryGrowth { hostileRounds(seed: seed, rng: &rng, base: base) }
        #expect(growth < 256 << 20, "TANDEM_FUZZ_SEED=\(seed): grew by \(growth >> 20) MiB at its peak")
    }

    func hostileRounds(seed: UInt64, rng: inout SeededGenerator, base: [String]) {
        for round in 0..<60 {
            var lines = base
            let at = Int.random(in: 0...base.count, using: &rng)
            let expected: String
            switch round % 3 {
            case 0:
                let levels = Int.random(in: 3...14, using: &rng)
                let width = Int.random(in: 2...16, using: &rng)
                let use =
                    ["v: *l\(levels - 1)", "- *l\(levels - 1)", "? *l\(levels - 1)\n: 1", "{*l\(levels - 1): x}"]
                    .randomElement(using: &rng) ?? ""
                let bomb = aliasBomb(levels: levels, width: width).split(separator: "\n").dropLast().map(String.init)
                lines = Array(lines[..<at]) + bomb + use.split(separator: "\n").map(String.init) + Array(lines[at...])
                expected = "anchors and aliases"
            case 1:
                let filler = Int.random(in: 1...200, using: &rng)
                let line = "# " + String(repeating: "z", count: filler)
                let count = InputLimits.yamlBytes / (line.utf8.count + 1) + Int.random(in: 1...50, using: &rng)
                lines.insert(contentsOf: Array(repeating: line, count: count), at: at)
                expected = "larger than 1 MiB"
            default:
                let depth = Int.random(in: (InputLimits.yamlDepth + 1)...20_000, using: &rng)
                let nest =
                    Bool.random(using: &rng)
                    ? ["deep: " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth)]
                    : (0..<min(depth, 600)).map { String(repeating: " ", count: $0) + "k\($0):" }
                lines.insert(contentsOf: nest, at: at)
                expected = "nest more than"
            }
            let text = lines.joined(separator: "\n")
            let replay = "TANDEM_FUZZ_SEED=\(seed), round \(round)"
            // The work is bounded in CPU time (this thread's), which another process loading the machine cannot stretch.
            let started = Self.threadCPUSeconds()
            do {
                _ = try ProfileSet.decodeSingle(text, name: "test", file: "environments/test.yaml")
                Issue.record("\(replay): accepted")
            } catch {
                #expect(error.exitStatus == .badInput, "\(replay): \(error)")
                #expect(error.description.contains(expected), "\(replay): \(error)")
                #expect(error.description.hasPrefix("environments/test.yaml:\(error.location.line):"), "\(replay)")
                #expect(error.location.line >= 1 && error.location.column >= 1, "\(replay)")
            }
            let spent = Self.threadCPUSeconds() - started
            #expect(spent < 2, "\(replay): took \(spent) s of CPU")
        }
    }

    @Test("the same seed replays the same inputs")
    func replay() {
        var a = SeededGenerator(seed: 42)
        var b = SeededGenerator(seed: 42)
        var c = SeededGenerator(seed: 43)
        let first = (0..<8).map { _ in a.next() }
        #expect(first == (0..<8).map { _ in b.next() })
        #expect(first != (0..<8).map { _ in c.next() })
    }
}

/// SplitMix64, so a seed gives the same sequence on every machine.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

}

extension ProfileFuzzTests {
    /// The CPU time this thread has used, in seconds.
    static func threadCPUSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
