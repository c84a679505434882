import Foundation
import TandemCore
import TandemStorage
import Testing

@Suite("Runtime isolation of roots")
struct RootGuardTests {
    func temporaryFolder() -> String { NSTemporaryDirectory() + "tandem-root-\(UUID().uuidString)" }

    @Test("the first write stamps the root; the same environment may write again")
    func stampsOnFirstWrite() throws {
        let path = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let stamp = try RootGuard.claim(path: path, environment: "test", role: .features, writer: .stage("etl"))
        #expect(stamp.environment == "test")
        #expect(RootGuard.stamp(of: path)?.environment == "test")
        #expect(try RootGuard.claim(path: path, environment: "test", role: .features, writer: .stage("etl")) == stamp)
    }

    @Test("a stage for one environment refuses a root owned by another, naming both (exit 2)")
    func refusesOtherEnvironment() throws {
        let path = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try RootGuard.claim(path: path, environment: "prod", role: .registry, writer: .promotionEngine)
        do {
            try RootGuard.claim(path: path, environment: "test", role: .registry, writer: .stage("train"))
            Issue.record("test wrote into prod's root")
        } catch {
            #expect(error.exitStatus == .badInput)
            #expect(error.description.contains("belongs to environment 'prod'"))
            #expect(error.description.contains("a stage for 'test' refuses"))
        }
    }

    @Test("a folder inside another environment's root is refused")
    func refusesNested() throws {
        let path = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try RootGuard.claim(path: path, environment: "prod", role: .features, writer: .stage("etl"))
        #expect(throws: RootAccessError.self) {
            try RootGuard.claim(path: path + "/inner", environment: "test", role: .features, writer: .stage("etl"))
        }
    }

    @Test("a protected registry is written only by the promotion engine")
    func protectedRegistry() throws {
        let path = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: RootAccessError.self) {
            try RootGuard.claim(path: path, environment: "prod", role: .registry, protected: true, writer: .stage("train"))
        }
        try RootGuard.claim(path: path, environment: "prod", role: .registry, protected: true, writer: .promotionEngine)
    }

    @Test("one root cannot serve two roles")
    func refusesOtherRole() throws {
        let path = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try RootGuard.claim(path: path, environment: "test", role: .features, writer: .stage("etl"))
        #expect(throws: RootAccessError.self) {
            try RootGuard.claim(path: path, environment: "test", role: .registry, writer: .stage("train"))
        }
    }

    @Test("an unwritable location gives exit 3")
    func unwritable() throws {
        // /proc refuses new folders to every user, root included.
        do {
            try RootGuard.claim(path: "/proc/tandem-test", environment: "test", role: .features, writer: .stage("etl"))
            Issue.record("claimed a folder in /proc")
        } catch {
            #expect(error.exitStatus == .infrastructure)
            #expect(error.description.hasPrefix("/proc/tandem-test: cannot create"))
        }
    }
}
