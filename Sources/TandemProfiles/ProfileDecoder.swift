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
}
