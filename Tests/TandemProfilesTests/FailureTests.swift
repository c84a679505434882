import Foundation
import TandemCore
import TandemProfiles
import Testing

@Suite("Failure: one failure type whose code decides the exit status")
struct FailureTests {
    @Test("each code ends with its documented exit status (docs/architecture.md, Exit codes)")
    func exitStatuses() {
        let expected: [Failure.Code: TandemCore.ExitStatus] = [
            .notFound: .badInput, .invalidInput: .badInput, .conflict: .badInput, .refused: .verdictNo,
            .waiting: .waiting, .unreachable: .infrastructure, .denied: .infrastructure, .tampered: .infrastructure,
            .failed: .infrastructure,
        ]
        #expect(Set(expected.keys) == Set(Failure.Code.allCases))
        for (code, status) in expected {
            #expect(Failure(code, "x").exitStatus == status, "\(code)")
            #expect(Failure(code, "x").code == code)
        }
    }

    @Test("a failure known only by an exit status keeps that status, with the general code")
    func fromExitStatus() {
        for status in TandemCore.ExitStatus.allCases where status != .done {
            #expect(Failure(Failure.Code(exitStatus: status), "x").exitStatus == status, "\(status)")
        }
        #expect(Failure.Code(exitStatus: .badInput) == .invalidInput)
        #expect(Failure.Code(exitStatus: .done) == .failed)
    }

    @Test("a richer error carries a code too: a profile's located error is invalid input")
    func richerErrors() throws {
        let error = ProfileError(
            location: SourceLocation(file: "environments/x.yaml", line: 3, column: 1), problem: "p", fix: "f")
        #expect(error.code == .invalidInput)
        #expect(error.exitStatus == .badInput)
    }
}
