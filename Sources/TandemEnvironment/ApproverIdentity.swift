public import Foundation
public import TandemCore
public import TandemHTTP
public import TandemProfiles
public import TandemPromotion
import TandemRegistry

/// Who is approving or rejecting a promotion, established from the CI system's own record when the process runs
/// in CI, never typed in (docs/security.md, "Who approves"):
///
/// - **GitHub Actions** (`GITHUB_ACTIONS=true`): the user who approved the deployment to the environment, from
///   GitHub's review history of the workflow run (`GET /repos/OWNER/REPO/actions/runs/RUN_ID/approvals` with the
///   job's token). `github.actor` (who triggered the run, usually the branch's author) is never the approver.
/// - **GitLab CI** (`GITLAB_CI=true`): the user who ran the manual job (`GITLAB_USER_LOGIN` where `CI_JOB_MANUAL`
///   is `true`); a job that is not manual has no such user and is refused.
/// - Elsewhere: `TANDEM_ACTOR`, else the OS user, recorded as asserted.
///
/// `TANDEM_IDENTITY` (`github-environment-review`, `gitlab-manual-job`, `asserted`) chooses explicitly.
public enum ApproverIdentity {
    /// An identity and where it came from.
    public struct Resolved: Sendable, Equatable {
        public var name: String
        public var source: IdentitySource
    }

    /// Resolves the acting user for a decision on a promotion into `target`; `approving` picks the review state
    /// looked for on GitHub (an approval needs an `approved` review).
    ///
    /// - Throws: `Failure` (exit 2) when the CI system records no such reviewer, (exit 3, `.denied`) when GitHub
    ///   refuses the token, (exit 3) when it cannot be reached.
    public static func resolve(
        target: Profile, approving: Bool, environment env: [String: String] = ProcessInfo.processInfo.environment,
        transport: any HTTPTransport = CurlTransport()
    ) async throws -> Resolved {
        let mode =
            env["TANDEM_IDENTITY"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (env["GITHUB_ACTIONS"] == "true"
                ? "github-environment-review" : env["GITLAB_CI"] == "true" ? "gitlab-manual-job" : "asserted")
        switch mode {
        case "github-environment-review":
            return try await github(target: target, approving: approving, env: env, transport: transport)
        case "gitlab-manual-job":
            guard env["CI_JOB_MANUAL"] == "true", let login = env["GITLAB_USER_LOGIN"], !login.isEmpty else {
                throw Failure(
                    .invalidInput,
                    "this GitLab job is not a manual job, so GitLab records no user who ran it (CI_JOB_MANUAL, "
                        + "GITLAB_USER_LOGIN); approve from the pipeline's manual approval job (ci/gitlab/.gitlab-ci.yml)")
            }
            return Resolved(name: login, source: .gitlabManualJob)
        case "asserted":
            return Resolved(name: Actor.current(env), source: .asserted)
        default:
            throw Failure(
                .invalidInput,
                "TANDEM_IDENTITY is '\(mode)'; write github-environment-review, gitlab-manual-job or asserted (or unset it)")
        }
    }

    static func github(target: Profile, approving: Bool, env: [String: String], transport: any HTTPTransport) async throws
        -> Resolved
    {
        func need(_ name: String) throws -> String {
            guard let v = env[name], !v.isEmpty else {
                throw Failure(
                    .invalidInput,
                    "\(name) is not set: the approver is read from GitHub's review of this workflow run, which needs "
                        + "GITHUB_REPOSITORY, GITHUB_RUN_ID and the job's token (run it as a GitHub Actions job)")
            }
            return v
        }
        let repository = try need("GITHUB_REPOSITORY")
        let run = try need("GITHUB_RUN_ID")
        let tokenVariable = target.reporter.tokenEnv ?? "GITHUB_TOKEN"
        let token = try need(tokenVariable)
        try HTTPSafety.checkVariable(tokenVariable, token)
        guard repository.split(separator: "/").count == 2, run.allSatisfy(\.isNumber),
            repository.allSatisfy({ $0.isLetter || $0.isNumber || "-_./".contains($0) })
        else {
            throw Failure(
                .invalidInput, "GITHUB_REPOSITORY '\(repository)' / GITHUB_RUN_ID '\(run)' are not a repository and a run id")
        }
        let api = (env["GITHUB_API_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? "https://api.github.com")
        try HTTPSafety.checkVariable("GITHUB_API_URL", api, isURL: true)
        let environmentName = env["TANDEM_GITHUB_ENVIRONMENT"].flatMap { $0.isEmpty ? nil : $0 } ?? target.name
        let url = api.trimmingSuffix("/") + "/repos/\(repository)/actions/runs/\(run)/approvals"
        let request = HTTPRequest(
            method: .get, url: url,
            headers: [
                ("Accept", "application/vnd.github+json"), ("Authorization", "Bearer \(token)"),
                ("X-GitHub-Api-Version", "2022-11-28"), ("User-Agent", "tandem"),
            ], maxResponseBytes: 4 << 20)
        let response: HTTPResponse
        do { response = try await transport.send(request) } catch {
            throw Failure(.unreachable, "GitHub (\(api)) does not answer for the review history of run \(run): \(error)")
        }
        switch response.status {
        case 200: break
        case 401, 403:
            throw Failure(
                .denied,
                "GitHub refused \(tokenVariable) reading the review history of run \(run) of \(repository) (HTTP \(response.status)); "
                    + "give the job `actions: read`", httpStatus: response.status)
        case 404:
            throw Failure(.notFound, "GitHub has no run \(run) of \(repository) (HTTP 404)", httpStatus: 404)
        default:
            throw Failure(
                .failed, "GitHub answered HTTP \(response.status) for the review history of run \(run)",
                httpStatus: response.status)
        }
        guard let reviews = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [[String: Any]] else {
            throw Failure(.failed, "GitHub's review history of run \(run) is not the documented JSON list of reviews")
        }
        let wanted = approving ? "approved" : "rejected"
        // Chronological: the newest review of the environment in the wanted state is the decision this job carries.
        let reviewer = reviews.last { review in
            (review["state"] as? String) == wanted
                && ((review["environments"] as? [[String: Any]]) ?? []).contains { ($0["name"] as? String) == environmentName }
        }
        guard let login = (reviewer?["user"] as? [String: Any])?["login"] as? String, !login.isEmpty else {
            throw Failure(
                .invalidInput,
                "GitHub records no \(wanted) review of environment '\(environmentName)' for run \(run) of \(repository), "
                    + "so there is no reviewer to \(approving ? "approve" : "reject") as; review the deployment in GitHub "
                    + "(the environment's required reviewers), then this job runs")
        }
        return Resolved(name: login, source: .githubEnvironmentReview)
    }
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: String) -> String {
        var s = self
        while s.hasSuffix(suffix) { s.removeLast(suffix.count) }
        return s
    }
}
