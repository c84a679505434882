import TandemCore

/// Turns a merged `YAMLTree` into a `Profile`, checking every key (see environments/README.md).
enum ProfileDecoder {
    static let topKeys = [
        "name", "description", "extends", "roots", "git", "data", "protected", "promotes_to", "reporter",
        "notifiers", "approvals", "policy", "slurm",
    ]

    static func decode(_ tree: YAMLTree, name: String, file: String) throws(ProfileError) -> Profile {
        let top = try MappingReader(tree, path: "", allowed: topKeys, required: ["roots", "git", "approvals", "policy"])
        var locations = top.locations
        if let declared = try top.string("name"), declared != name {
            throw ProfileError(
                location: top.node("name")?.location ?? top.location,
                problem: "the profile says name '\(declared)' but its file makes it '\(name)'",
                fix: "rename the file to \(declared).yaml or write `name: \(name)`")
        }

        let rootsNode = top.node("roots") ?? tree
        let roots = try MappingReader(
            rootsNode, path: "roots", allowed: ["features", "registry", "compute", "state"],
            required: ["features", "registry", "compute"])
        locations.merge(roots.locations) { $1 }
        let features = try roots.rootURL("features")
        let registry = try roots.rootURL("registry")
        var compute = try roots.rootURL("compute")
        try expect(features, in: ["file", "postgres"], key: "roots.features", reader: roots)
        try expect(registry, in: ["file", "mlflow+http", "mlflow+https"], key: "roots.registry", reader: roots)
        try expect(compute, in: ["local", "slurm"], key: "roots.compute", reader: roots)
        var state: RootURL?
        if roots.node("state") != nil {
            let written = try roots.rootURL("state")
            try expect(written, in: ["file", "postgres"], key: "roots.state", reader: roots)
            state = written
        } else if case .mlflow = registry {
            // An MLflow server holds no promotion state: by default it lives in this checkout (docs/architecture.md).
            state = .file(path: ".tandem/\(name)/state")
        }
        if let node = top.node("slurm") {
            compute = try mergeSlurmSettings(node, into: compute, locations: &locations)
        }

        let git = try MappingReader(
            top.node("git") ?? tree, path: "git",
            allowed: ["production_branch", "remote", "tag_prefix"], required: ["production_branch"])
        locations.merge(git.locations) { $1 }
        let branch = try git.requiredString("production_branch")
        try checkRefName(branch, key: "git.production_branch", reader: git)

        var data = DataSettings(sampleInput: "fixtures/sample", featureSet: "relevance_v1")
        if let node = top.node("data") {
            let reader = try MappingReader(node, path: "data", allowed: ["sample_input", "feature_set"])
            locations.merge(reader.locations) { $1 }
            data.sampleInput = try reader.string("sample_input") ?? data.sampleInput
            data.featureSet = try reader.string("feature_set") ?? data.featureSet
        }

        let reporter = try decodeReporter(top.node("reporter"), locations: &locations)
        var notifiers: [NotifierSettings] = []
        for (index, node) in try top.list("notifiers").enumerated() {
            notifiers.append(try decodeNotifier(node, path: "notifiers[\(index)]", locations: &locations))
        }

        let approvalsReader = try MappingReader(
            top.node("approvals") ?? tree, path: "approvals",
            allowed: ["required", "approvers", "require_verified"], required: ["required", "approvers"])
        locations.merge(approvalsReader.locations) { $1 }
        let approvals = ApprovalSettings(
            required: try approvalsReader.int("required", range: 0...100) ?? 1,
            approvers: try approvalsReader.stringList("approvers"),
            requireVerified: try approvalsReader.bool("require_verified") ?? false)
        if approvals.required > approvals.approvers.count {
            throw ProfileError(
                location: approvalsReader.node("required")?.location ?? approvalsReader.location,
                problem: "approvals.required is \(approvals.required) but only \(approvals.approvers.count) approvers are listed",
                fix: "list at least \(approvals.required) approvers or lower `required`")
        }

        let policy = try decodePolicy(top.node("policy") ?? tree, locations: &locations)

        return Profile(
            name: name, description: try top.string("description") ?? "", file: file,
            extends: try top.string("extends"),
            roots: Roots(features: features, registry: registry, compute: compute, state: state),
            git: GitSettings(
                productionBranch: branch, remote: try git.string("remote"),
                tagPrefix: try git.string("tag_prefix") ?? "tandem/\(name)"),
            data: data, protected: try top.bool("protected") ?? false, promotesTo: try top.string("promotes_to"),
            reporter: reporter, notifiers: notifiers, approvals: approvals, policy: policy, locations: locations)
    }

    /// `slurm:` — the compute root's Slurm options written as keys (and `sbatch` as a list of arguments) rather
    /// than in the URL; a key may be set in one place only.
    static func mergeSlurmSettings(_ node: YAMLTree, into compute: RootURL, locations: inout [String: SourceLocation])
        throws(ProfileError) -> RootURL
    {
        let keys = ["partition", "account", "qos", "time", "cpus", "mem", "max_jobs", "conf", "sbatch"]
        let reader = try MappingReader(node, path: "slurm", allowed: keys)
        locations.merge(reader.locations) { $1 }
        guard case .slurm(let cluster, var options) = compute else {
            throw ProfileError(
                location: reader.location,
                problem: "'slurm' settings apply to a slurm:// compute root, and roots.compute is \(compute)",
                fix: "remove the slurm section, or make roots.compute a slurm:// root")
        }
        for key in keys {
            guard let value = reader.node(key) else { continue }
            if let already = options[key] {
                throw ProfileError(
                    location: value.location, problem: "slurm.\(key) is also set in roots.compute (\(key)=\(already))",
                    fix: "set \(key) in one place")
            }
            if key == "sbatch" {
                let arguments = try reader.stringList("sbatch")
                if let bad = arguments.first(where: { $0.contains(where: \.isWhitespace) || $0.isEmpty }) {
                    throw ProfileError(
                        location: value.location, problem: "slurm.sbatch argument '\(bad)' is empty or contains spaces",
                        fix: "write one sbatch argument per item, without spaces, as in --comment=nightly")
                }
                options[key] = arguments.joined(separator: " ")
            } else if key == "cpus" || key == "max_jobs" {
                options[key] = String(try reader.int(key, range: 1...100_000) ?? 1)
            } else {
                options[key] = try reader.string(key)
            }
        }
        return .slurm(cluster: cluster, options: options)
    }

    static func expect(_ url: RootURL, in schemes: [String], key: String, reader: MappingReader) throws(ProfileError) {
        guard schemes.contains(url.scheme) else {
            throw ProfileError(
                location: reader.node(String(key.split(separator: ".").last ?? ""))?.location ?? reader.location,
                problem: "'\(key)' cannot be a \(url.scheme):// root",
                fix: "use " + schemes.map { "\($0)://" }.joined(separator: " or "))
        }
    }

    static func checkRefName(_ name: String, key: String, reader: MappingReader) throws(ProfileError) {
        let bad =
            name.hasPrefix("-") || name.hasPrefix("/") || name.hasSuffix("/") || name.hasSuffix(".lock")
            || name.contains("..") || name.contains("//") || name.contains("@{")
            || name.unicodeScalars.contains {
                $0.value < 0x21 || $0 == "~" || $0 == "^" || $0 == ":" || $0 == "?" || $0 == "*" || $0 == "[" || $0 == "\\"
                    || $0.value == 0x7f
            }
        if bad {
            throw ProfileError(
                location: reader.node(String(key.split(separator: ".").last ?? ""))?.location ?? reader.location,
                problem: "'\(key)' is '\(name)', not a valid git branch name",
                fix: "write a branch name such as main or release/prod")
        }
    }

    static func decodeReporter(_ node: YAMLTree?, locations: inout [String: SourceLocation]) throws(ProfileError)
        -> ReporterSettings
    {
        guard let node else {
            return ReporterSettings(kind: .none)
        }
        let reader = try MappingReader(
            node, path: "reporter",
            allowed: [
                "kind", "api", "repository", "project", "context", "target_url", "url", "url_env", "token_env", "secret_env",
            ],
            required: ["kind"])
        locations.merge(reader.locations) { $1 }
        let kind = try reader.choice("kind", ReporterKind.self) ?? .none
        let settings = ReporterSettings(
            kind: kind, api: try reader.string("api"), repository: try reader.string("repository"),
            project: try reader.string("project"), context: try reader.string("context"),
            targetURL: try reader.string("target_url"), url: try reader.string("url"),
            urlEnv: try reader.variableName("url_env"), tokenEnv: try reader.variableName("token_env"),
            secretEnv: try reader.variableName("secret_env"))
        func need(_ key: String, _ present: Bool, _ example: String) throws(ProfileError) {
            if !present {
                throw ProfileError(
                    location: reader.location, problem: "a \(kind.rawValue) reporter needs '\(key)'",
                    fix: "add `\(key): \(example)`")
            }
        }
        switch kind {
        case .github:
            try need("repository", settings.repository != nil, "OWNER/REPO")
            try need("token_env", settings.tokenEnv != nil, "GITHUB_TOKEN")
        case .gitlab:
            try need("project", settings.project != nil, "group/project")
            try need("api", settings.api != nil, "https://gitlab.example.com/api/v4")
            try need("token_env", settings.tokenEnv != nil, "GITLAB_TOKEN")
        case .generic:
            try need("url or url_env", settings.url != nil || settings.urlEnv != nil, "https://ci.example/hooks/tandem")
            try need("secret_env", settings.secretEnv != nil, "TANDEM_WEBHOOK_SECRET")
        case .none:
            break
        }
        try checkURL(settings.api, key: "api", reader: reader)
        try checkURL(settings.url, key: "url", reader: reader)
        return settings
    }

    static func decodeNotifier(_ node: YAMLTree, path: String, locations: inout [String: SourceLocation]) throws(ProfileError)
        -> NotifierSettings
    {
        let reader = try MappingReader(
            node, path: path, allowed: ["name", "kind", "url", "url_env", "secret_env", "events"],
            required: ["name", "kind", "events"])
        locations.merge(reader.locations) { $1 }
        let kind = try reader.choice("kind", NotifierKind.self) ?? .generic
        if kind == .slack, reader.node("url") != nil {
            throw ProfileError(
                location: reader.node("url")?.location ?? reader.location,
                problem: "secret written inline in '\(path).url': a Slack incoming-webhook URL carries its token",
                fix: "put the URL in an environment variable and name it with `url_env: SLACK_WEBHOOK_URL`")
        }
        let events = try reader.stringList("events")
        for (index, event) in events.enumerated() where !promotionEvents.contains(event) && event != "*" {
            let hint = didYouMean(event, among: promotionEvents).map { " (did you mean '\($0)'?)" } ?? ""
            throw ProfileError(
                location: (try? reader.list("events"))?[index].location ?? reader.location,
                problem: "unknown event '\(event)'\(hint)",
                fix: "subscribe to '*' or to: " + promotionEvents.joined(separator: ", "))
        }
        let settings = NotifierSettings(
            name: try reader.requiredString("name"), kind: kind, url: try reader.string("url"),
            urlEnv: try reader.variableName("url_env"), secretEnv: try reader.variableName("secret_env"), events: events)
        if settings.url == nil && settings.urlEnv == nil {
            throw ProfileError(
                location: reader.location, problem: "notifier '\(settings.name)' has no endpoint",
                fix: "add `url_env: VARIABLE` naming the variable that holds its URL")
        }
        if kind == .generic && settings.secretEnv == nil {
            throw ProfileError(
                location: reader.location, problem: "generic notifier '\(settings.name)' has no signing secret",
                fix: "add `secret_env: VARIABLE` naming the variable that holds its whsec_… secret")
        }
        try checkURL(settings.url, key: "url", reader: reader)
        return settings
    }

    static func checkURL(_ text: String?, key: String, reader: MappingReader) throws(ProfileError) {
        guard let text else { return }
        let lower = text.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else {
            throw ProfileError(
                location: reader.node(key)?.location ?? reader.location,
                problem: "'\(reader.path).\(key)' is not an http(s) URL", fix: "write https://HOST/…")
        }
        let authority = text.split(separator: "/", omittingEmptySubsequences: true).dropFirst().first ?? ""
        if authority.contains("@") {
            throw ProfileError(
                location: reader.node(key)?.location ?? reader.location,
                problem: "secret written inline: '\(reader.path).\(key)' carries credentials",
                fix: "remove them and name the variable holding the secret with a key ending in _env")
        }
    }

    static func decodePolicy(_ node: YAMLTree, locations: inout [String: SourceLocation]) throws(ProfileError) -> PromotionPolicy
    {
        let o = try decodePolicyOverrides(
            node, path: "policy", required: ["primary_metric", "min_improvement", "confidence"], locations: &locations)
        guard let metric = o.primaryMetric else {
            throw ProfileError(
                location: node.location, problem: "policy.primary_metric is empty",
                fix: "name the metric the policy decides on, such as `primary_metric: ndcg@10`")
        }
        return PromotionPolicy(
            primaryMetric: metric, minImprovement: o.minImprovement ?? 0, confidence: o.confidence ?? 0.95,
            bootstrapResamples: o.bootstrapResamples ?? 10_000, seed: o.seed ?? 20_261_128, minQueries: o.minQueries ?? 30,
            guardrails: o.guardrails ?? [], firstRelease: o.firstRelease ?? .requireApproval,
            latencyBudgetMs: o.latencyBudgetMs ?? 50)
    }

    /// The keys of a policy mapping that are written, each checked (an environment's `policy`, or a model's
    /// `owners.policy`, which overrides some of its environment's).
    static func decodePolicyOverrides(
        _ node: YAMLTree, path: String, required: [String], locations: inout [String: SourceLocation]
    ) throws(ProfileError) -> PolicyOverrides {
        let reader = try MappingReader(
            node, path: path,
            allowed: [
                "primary_metric", "min_improvement", "confidence", "bootstrap_resamples", "seed", "min_queries",
                "guardrails", "first_release", "latency_budget_ms",
            ],
            required: required)
        locations.merge(reader.locations) { $1 }
        let metric = try reader.string("primary_metric")
        if let metric { try checkMetric(metric, node: reader.node("primary_metric"), reader: reader) }
        var guardrails: [Guardrail]?
        if reader.node("guardrails") != nil {
            guardrails = []
            for (index, item) in try reader.list("guardrails").enumerated() {
                let g = try MappingReader(
                    item, path: "\(path).guardrails[\(index)]", allowed: ["metric", "max_regression"],
                    required: ["metric", "max_regression"])
                let name = try g.requiredString("metric")
                try checkMetric(name, node: g.node("metric"), reader: g)
                guardrails?.append(Guardrail(metric: name, maxRegression: try g.double("max_regression", range: 0...1) ?? 0))
            }
        }
        return PolicyOverrides(
            primaryMetric: metric,
            minImprovement: try reader.double("min_improvement", range: -1...1),
            confidence: try reader.double("confidence", range: 0.5...0.9999),
            bootstrapResamples: try reader.int("bootstrap_resamples", range: 100...1_000_000),
            seed: try reader.int("seed", range: 0...Int.max).map { UInt64($0) },
            minQueries: try reader.int("min_queries", range: 1...1_000_000),
            guardrails: guardrails,
            firstRelease: try reader.choice("first_release", FirstReleaseRule.self),
            latencyBudgetMs: try reader.double("latency_budget_ms", range: 0.001...60_000))
    }

    static func checkMetric(_ name: String, node: YAMLTree?, reader: MappingReader) throws(ProfileError) {
        guard knownMetrics.contains(name) else {
            let hint = didYouMean(name, among: knownMetrics).map { " (did you mean '\($0)'?)" } ?? ""
            throw ProfileError(
                location: node?.location ?? reader.location, problem: "unknown metric '\(name)'\(hint)",
                fix: "use one of: " + knownMetrics.joined(separator: ", "))
        }
    }
}
