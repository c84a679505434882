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
    @Test("a symbolic link, a hard link or a '..' inside a root is refused by the containment check (exit 3, naming it)")
    func containment() throws {
        let path = temporaryFolder()
        let other = temporaryFolder()
        defer {
            try? FileManager.default.removeItem(atPath: path)
            try? FileManager.default.removeItem(atPath: other)
        }
        try RootGuard.claim(path: path, environment: "test", role: .registry, writer: .stage("train"))
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: other + "/db"))
        #expect(try RootGuard.contained(path + "/artifacts/sha256/ab/new", in: path) == path + "/artifacts/sha256/ab/new")
        try FileManager.default.createSymbolicLink(atPath: path + "/artifacts", withDestinationPath: other)
        try FileManager.default.linkItem(atPath: other + "/db", toPath: path + "/registry.sqlite")
        for (inside, fragment) in [
            ("/artifacts/sha256/ab/new", "artifacts is a symbolic link (to \(other))"),
            ("/registry.sqlite", "has 2 hard links"), ("/../elsewhere", "is outside the root"),
        ] {
            do {
                try RootGuard.contained(path + inside, in: path)
                Issue.record("\(inside) passed")
            } catch {
                #expect(error.kind == .link)
                #expect(error.code == .tampered)
                #expect(error.exitStatus == .infrastructure)
                #expect(error.description.contains(fragment), "\(error)")
            }
        }
    }

    @Test("a root that holds a store's files but lost its stamp is damaged (exit 3) and never stamped afresh")
    func lostStamp() throws {
        let path = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try FileManager.default.createDirectory(atPath: path + "/gold", withIntermediateDirectories: true)
        for open in [true, false] {
            do {
                if open {
                    try RootGuard.open(path: path, environment: "test", role: .features, ifEmpty: "empty")
                } else {
                    try RootGuard.claim(path: path, environment: "test", role: .features, writer: .stage("etl"))
                }
                Issue.record("a damaged root was opened")
            } catch {
                #expect(error.kind == .damaged)
                #expect(error.code == .tampered)
                #expect(error.exitStatus == .infrastructure)
                #expect(error.description.contains("holds gold but no ownership stamp"), "\(error)")
            }
        }
        #expect(RootGuard.stamp(of: path) == nil)
        try "{".write(toFile: path + "/" + RootGuard.stampName, atomically: true, encoding: .utf8)
        #expect(throws: RootAccessError.self) {
            try RootGuard.claim(path: path, environment: "test", role: .features, writer: .stage("etl"))
        }
    }

    @Test("staging is abandoned only when its owner is gone from this host; a live owner's and another host's are kept")
    func stagingOwners() throws {
        let me = ProcessIdentity.current
        let folder = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        #expect(Staging.name().hasPrefix(".staging-\(me.token)-"))
        #expect(!Staging.isAbandoned(Staging.name(), in: folder))
        #expect(Staging.isAbandoned(".staging-\(me.pid)-\(me.start + 1)-\(me.hostTag)-x", in: folder))
        #expect(!Staging.isAbandoned(".staging-\(me.pid)-\(me.start + 1)-00000000-x", in: folder))
        #expect(!Staging.isAbandoned("v3", in: folder))
        // An earlier version's ownerless name: kept while young.
        try FileManager.default.createDirectory(atPath: folder + "/.staging-ABC", withIntermediateDirectories: true)
        #expect(!Staging.isAbandoned(".staging-ABC", in: folder))
        #expect(Staging.reclaim(in: folder, root: folder).isEmpty)
    }
}
