import Foundation
import TandemCore
import Testing

@testable import TandemProfiles

@Suite("Profile loader fuzzing")
struct ProfileFuzzTests {
    /// Feeds truncated, mutated and random YAML to the loader: it never crashes; it either loads or throws a
    /// located ProfileError with exit status 2.
    @Test("random and truncated YAML never crashes and always gives a located error")
    func fuzz() {
        var rng = SystemRandomNumberGenerator()
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
                #expect(error.exitStatus == .badInput)
                #expect(error.location.file == "environments/test.yaml")
                #expect(error.location.line >= 1 && error.location.column >= 1)
                #expect(error.description.hasPrefix("environments/test.yaml:\(error.location.line):\(error.location.column): "))
            }
        }
        #expect(refused > 1000)
    }
}
