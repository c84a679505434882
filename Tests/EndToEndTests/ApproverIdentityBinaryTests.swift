import Foundation
import TandemTestSupport
import Testing

/// Approvals by the authenticated reviewer (docs/security.md, "Who approves"): in a GitHub Actions job the approver
/// is the user GitHub's review history of the run names, never `github.actor`; in a GitLab manual job, the user who
/// ran it. A local double answers with GitHub's documented response shape.
@Suite("Approver identity from the CI system's record, end to end")
struct ApproverIdentityBinaryTests {
    static let token = "ghp_IDENTITYTEST0123456789"

    /// The environment of a GitHub Actions approval job whose run's reviews are `scenario` (see webhook_receiver.py).
    static func github(_ receiver: Receiver, _ scenario: String) -> [String: String] {
        [
            "GITHUB_ACTIONS": "true", "GITHUB_API_URL": "\(receiver.base)/ghapi/\(scenario)", "GITHUB_REPOSITORY": "acme/ranker",
            "GITHUB_RUN_ID": "4242", "GITHUB_TOKEN": token, "GITHUB_ACTOR": "dana",
        ]
    }

    @Test("GitHub: the reviewer comes from the run's review history; no review, another environment's, a bad token refused")
    func githubReview() async throws {
        let r = try await PromotionRepository.make()
        defer { r.remove() }
        let receiver = try Receiver(environment: ["GITHUB_TOKEN": Self.token])
        defer { receiver.stop() }
        let (_, id) = try await r.start(as: "alice")
        // dana triggered the run (github.actor), alice requested the promotion, TANDEM_ACTOR says mallory: none counts.
        for (scenario, status, fragment) in [
            ("none", Int32(2), "GitHub records no approved review of environment 'prod' for run 4242 of acme/ranker"),
            ("approved:bob:staging", 2, "no approved review of environment 'prod'"),
            ("rejected:bob:prod", 2, "no approved review"),
        ] {
            let run = try await r.promote(
                ["approve", "--env", "test", id], as: "mallory", environment: Self.github(receiver, scenario))
            #expect(run.status == status, "\(scenario): \(run.stdout)\(run.stderr)")
            #expect(run.stderr.contains(fragment), "\(scenario): \(run.stderr)")
            #expect(!run.stderr.contains(Self.token) && !run.stdout.contains(Self.token))
        }
        var badToken = Self.github(receiver, "approved:bob:prod")
        badToken["GITHUB_TOKEN"] = "ghp_wrong"
        let denied = try await r.promote(["approve", "--env", "test", id], as: "mallory", environment: badToken)
        #expect(denied.status == 3 && denied.stderr.contains("GitHub refused GITHUB_TOKEN"), "\(denied.stderr)")
        // The requester's own review is still a self-approval.
        let own = try await r.promote(
            ["approve", "--env", "test", id], as: "mallory", environment: Self.github(receiver, "approved:alice:prod"))
        #expect(
            own.status == 2 && own.stderr.contains("'alice' requested promotion \(id) and cannot approve it"), "\(own.stderr)")
        // bob approved the deployment in GitHub after an earlier comment: bob is the approver, verified.
        let approved = try await r.promote(
            ["approve", "--env", "test", id], as: "mallory",
            environment: Self.github(receiver, "pending:carol:prod+approved:bob:prod"))
        #expect(approved.status == 0, "\(approved.stdout)\(approved.stderr)")
        #expect(approved.stdout.contains("approved by bob (verified: github-environment-review)"), "\(approved.stdout)")
        #expect(try await r.champion() == 1)
        let requests = try String(contentsOfFile: receiver.log, encoding: .utf8).split(separator: "\n")
        #expect(requests.allSatisfy { $0.contains("/repos/acme/ranker/actions/runs/4242/approvals") }, "\(requests)")
        #expect(requests.allSatisfy { $0.contains("\"x-github-api-version\": \"2022-11-28\"") }, "\(requests)")
    }

    @Test("GitLab: the user who ran the manual job; a job that is not manual is refused")
    func gitlabManualJob() async throws {
        let r = try await PromotionRepository.make()
        defer { r.remove() }
        let (_, id) = try await r.start()
        let notManual = try await r.promote(
            ["approve", "--env", "test", id], as: "mallory", environment: ["GITLAB_CI": "true", "GITLAB_USER_LOGIN": "bob"])
        #expect(notManual.status == 2 && notManual.stderr.contains("is not a manual job"), "\(notManual.stderr)")
        let manual = try await r.promote(
            ["approve", "--env", "test", id], as: "mallory",
            environment: ["GITLAB_CI": "true", "CI_JOB_MANUAL": "true", "GITLAB_USER_LOGIN": "bob"])
        #expect(manual.status == 0, "\(manual.stdout)\(manual.stderr)")
        #expect(manual.stdout.contains("approved by bob (verified: gitlab-manual-job)"), "\(manual.stdout)")
    }

    @Test("a prod that requires verified identities refuses an asserted approver (TANDEM_ACTOR), accepts a verified one")
    func requireVerified() async throws {
        let r = try await PromotionRepository.make()
        defer { r.remove() }
        try await r.commitOnProduction("environments/prod.yaml", message: "prod: verified approvers only") {
            $0.replacingOccurrences(of: "approvals:\n", with: "approvals:\n  require_verified: true\n")
        }
        let (_, id) = try await r.start()
        let asserted = try await r.promote(["approve", "--env", "test", id], as: "bob")
        #expect(asserted.status == 2 && asserted.stderr.contains("requires a verified approver identity"), "\(asserted.stderr)")
        let manual = try await r.promote(
            ["approve", "--env", "test", id], as: "bob",
            environment: ["GITLAB_CI": "true", "CI_JOB_MANUAL": "true", "GITLAB_USER_LOGIN": "bob"])
        #expect(manual.status == 0, "\(manual.stdout)\(manual.stderr)")
    }
}
