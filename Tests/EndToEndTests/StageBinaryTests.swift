import Foundation
import Testing

@Suite("Stage binaries, end to end")
struct StageBinaryTests {
    @Test("tandem alone lists the stages it finds; --version prints the version")
    func overview() throws {
        let run = try Binaries.run("tandem", [])
        #expect(run.status == 0)
        for stage in ["env", "etl", "features", "fixtures"] { #expect(run.stdout.contains("  \(stage) ")) }
        #expect(run.stdout.contains("Exit codes"))
        #expect(try Binaries.run("tandem", ["--version"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0.1.0")
        #expect(try Binaries.run("tandem-etl", ["--version"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0.1.0")
    }

    @Test("tandem alone lists every stage built beside it as built-in, with its description")
    func builtInStages() throws {
        let built = try FileManager.default.contentsOfDirectory(atPath: Binaries.folder).filter {
            $0.hasPrefix("tandem-") && !$0.contains(".")
                && FileManager.default.isExecutableFile(atPath: Binaries.folder + "/" + $0)
        }.map { String($0.dropFirst("tandem-".count)) }
        #expect(Set(built).isSuperset(of: ["env", "etl", "models", "runs", "local", "jobs", "promote"]), "\(built)")
        // Nothing on PATH: every stage listed is one of ours.
        let run = try Binaries.run("tandem", [], environment: ["PATH": "/nonexistent"])
        #expect(run.status == 0)
        let lines = run.stdout.split(separator: "\n").map(String.init)
        for stage in built {
            let line = lines.first { $0.hasPrefix("  \(stage) ") }
            #expect(line != nil, "tandem does not list \(stage)")
            #expect(line?.contains("third-party") == false, "\(line ?? "")")
        }
        #expect(!run.stdout.contains("third-party"), "\(run.stdout)")
    }

    @Test("an unknown stage exits 2 saying where it looked")
    func unknownStage() throws {
        let run = try Binaries.run("tandem", ["nope"])
        #expect(run.status == 2)
        #expect(run.stderr.contains("unknown stage 'nope': no executable tandem-nope in \(Binaries.folder)"))
    }

    @Test("a team's own tandem-foo on PATH runs as tandem foo, with its arguments")
    func thirdPartyStage() throws {
        let folder = NSTemporaryDirectory() + "tandem-path-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try "#!/bin/sh\necho \"foo ran with $*\"\nexit 4\n".write(
            toFile: folder + "/tandem-foo", atomically: true, encoding: .utf8)
        chmod(folder + "/tandem-foo", 0o755)
        let path = folder + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "")
        let run = try Binaries.run("tandem", ["foo", "--env", "test", "x"], environment: ["PATH": path])
        #expect(run.stdout == "foo ran with --env test x\n")
        #expect(run.status == 4)
        #expect(
            try Binaries.run("tandem", [], environment: ["PATH": path]).stdout.contains(
                "third-party stage (\(folder)/tandem-foo)"))
    }

    @Test("help reads `tandem STAGE`, with an abstract, an example and the exit codes")
    func help() throws {
        for (binary, stage) in [("tandem-etl", "etl"), ("tandem-env", "env"), ("tandem-features", "features")] {
            let run = try Binaries.run(binary, ["--help"])
            #expect(run.status == 0)
            #expect(run.stdout.contains("USAGE: tandem \(stage)"), "\(run.stdout)")
            #expect(run.stdout.contains("Example"))
            #expect(run.stdout.contains("Exit codes: 0 done"))
        }
        let viaUmbrella = try Binaries.run("tandem", ["etl", "--help"])
        #expect(viaUmbrella.stdout.contains("USAGE: tandem etl"))
    }

    @Test("bad usage exits 2 with a message that says what to fix")
    func badUsage() throws {
        let repo = try ScratchRepository()
        defer { repo.remove() }
        let noEnv = try repo.run("tandem-etl", [])
        #expect(noEnv.status == 2)
        #expect(noEnv.stderr.contains("pass --env NAME or set TANDEM_ENV"))
        let unknownFlag = try repo.run("tandem-etl", ["--env", "test", "--inptu", "x"])
        #expect(unknownFlag.status == 2)
        let unknownEnv = try repo.run("tandem-etl", ["--env", "tset"])
        #expect(unknownEnv.status == 2)
        #expect(unknownEnv.stderr.contains("no environment named 'tset' (did you mean 'test'?)"))
    }

    @Test(
        "an error after a progress bar is drawn starts a line of its own, on a terminal",
        .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script"), "needs script(1) for a terminal"))
    func errorAfterProgressBar() throws {
        let repo = try ScratchRepository()
        defer { repo.remove() }
        // The ETL draws its bar on stderr (a terminal, through script), then fails exporting silver.
        let command = [
            Binaries.folder + "/tandem-etl", "--env", "test", "--project", repo.root, "--export-silver", "/proc/tandem-nowhere/x",
        ].map { "'\($0)'" }.joined(separator: " ")
        let run = try Binaries.run("/usr/bin/script", ["-qec", command, "/dev/null"], in: repo.root)
        #expect(run.status != 0)
        #expect(run.stdout.contains("100%"), "no progress bar was drawn: \(run.stdout.debugDescription)")
        let lines = run.stdout.replacingOccurrences(of: "\r\n", with: "\n").split(
            separator: "\n", omittingEmptySubsequences: false)
        let errorLine = try #require(lines.first { $0.lowercased().contains("error: ") }, "\(run.stdout.debugDescription)")
        #expect(errorLine.lowercased().hasPrefix("error: "), "\(errorLine.debugDescription)")
        #expect(run.stdout.unicodeScalars.last == "\n", "the error line ends with its newline")
    }

    @Test("tandem env show test --json prints the three resolved roots, secrets only by variable name")
    func envShow() throws {
        let repo = try ScratchRepository()
        defer { repo.remove() }
        let run = try repo.run("tandem", ["env", "show", "test", "--json"], environment: ["GITHUB_TOKEN": "ghp_TOPSECRET123"])
        #expect(run.status == 0, "\(run.stderr)")
        let doc = try json(run.stdout)
        let roots = try #require(doc["roots"] as? [String: [String: Any]])
        #expect(Set(roots.keys) == ["features", "registry", "compute"])
        let realRoot = URL(fileURLWithPath: repo.root).resolvingSymlinksInPath().path
        #expect((roots["features"]?["path"] as? String)?.hasSuffix("/.tandem/test/features") == true)
        #expect((roots["features"]?["path"] as? String).map { $0.hasPrefix(repo.root) || $0.hasPrefix(realRoot) } == true)
        #expect((doc["secret_variables"] as? [String: String])?["reporter.token_env"] == "GITHUB_TOKEN")
        #expect(!run.stdout.contains("ghp_TOPSECRET123"))
        let env = try repo.run("tandem-env", ["show"], environment: ["TANDEM_ENV": "prod"])
        #expect(env.stdout.hasPrefix("environment prod"))
    }

    @Test("tandem env list shows every environment; no two share a storage root")
    func envList() throws {
        let run = try Binaries.run("tandem-env", ["list", "--json"], in: Binaries.repository)
        #expect(run.status == 0)
        let list = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [[String: Any]])
        #expect(list.compactMap { $0["name"] as? String } == ["dev", "test", "prod"])
        let paths = list.flatMap { env -> [String] in
            let roots = env["roots"] as? [String: [String: Any]] ?? [:]
            return ["features", "registry"].compactMap { roots[$0]?["path"] as? String }
        }
        #expect(Set(paths).count == 6)
    }

    @Test("a broken profile is refused with FILE:LINE:COLUMN and exit 2, by every stage")
    func brokenProfile() throws {
        let repo = try ScratchRepository()
        defer { repo.remove() }
        let prod = try String(contentsOfFile: repo.root + "/environments/prod.yaml", encoding: .utf8)
        try repo.write("environments/prod.yaml", prod.replacingOccurrences(of: "  registry: file://", with: "  registy: file://"))
        for (binary, arguments) in [("tandem-env", ["list"]), ("tandem-etl", ["--env", "test"])] {
            let run = try repo.run(binary, arguments)
            #expect(run.status == 2)
            #expect(run.stderr.contains("error: environments/prod.yaml:"), "\(run.stderr)")
            #expect(run.stderr.contains("unknown key 'registy' in 'roots' (did you mean 'registry'?)"))
        }
    }

    @Test("tandem env check exits 3 naming an unset secret variable, 0 when all is ready")
    func envCheck() throws {
        let repo = try ScratchRepository()
        defer { repo.remove() }
        let missing = try repo.run("tandem-env", ["check", "test"], removing: ["GITHUB_TOKEN", "SLACK_RANKING_WEBHOOK_URL"])
        #expect(missing.status == 3)
        #expect(missing.stdout.contains("FAIL reporter.token_env: $GITHUB_TOKEN is not set"))
        // A URL variable must hold an http(s) URL (what libcurl would be given).
        let notURL = try repo.run(
            "tandem-env", ["check", "test"], environment: ["GITHUB_TOKEN": "x", "SLACK_RANKING_WEBHOOK_URL": "y"])
        #expect(notURL.status == 3)
        #expect(
            notURL.stdout.contains("FAIL notifiers[0].url_env: $SLACK_RANKING_WEBHOOK_URL is not an http:// or https:// URL"),
            "\(notURL.stdout)")
        let ready = try repo.run(
            "tandem-env", ["check", "test"],
            environment: ["GITHUB_TOKEN": "x", "SLACK_RANKING_WEBHOOK_URL": "https://hooks.slack.com/services/T0/B0/X"])
        #expect(ready.status == 0, "\(ready.stdout)\(ready.stderr)")
    }

    @Test("a root served by no backend yet is refused at use, saying so")
    func unservedScheme() throws {
        let repo = try ScratchRepository()
        defer { repo.remove() }
        let dev = try String(contentsOfFile: repo.root + "/environments/dev.yaml", encoding: .utf8)
        try repo.write(
            "environments/dev.yaml",
            dev.replacingOccurrences(of: "file://.tandem/dev/features", with: "postgres://db.internal:5432/features"))
        let run = try repo.run("tandem-etl", ["--env", "dev"])
        #expect(run.status == 2)
        #expect(run.stderr.contains("postgres:// features roots are parsed but not served by this version"))
    }
}
