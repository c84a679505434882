import Foundation
import Testing

@Suite("CI templates")
struct CIWorkflowTests {
    /// Every `tandem …` command line in the CI templates, as (stage, subcommand?, flags).
    static func commandLines() throws -> [(file: String, line: String)] {
        var out: [(String, String)] = []
        for file in ["ci/github/tandem.yml", "ci/gitlab/.gitlab-ci.yml", "ci/README.md"] {
            let text = try String(contentsOfFile: Binaries.repository + "/" + file, encoding: .utf8)
            for raw in text.split(separator: "\n") {
                guard let range = raw.range(of: "release/tandem ") ?? raw.range(of: "`tandem ") else { continue }
                let command = raw[range.upperBound...].split(separator: ">")[0].split(separator: "|")[0].split(separator: "`")[0]
                out.append((file, String(command)))
            }
        }
        return out
    }

    @Test("every tandem command line in the CI templates uses a stage, a subcommand and flags that exist")
    func flagsExist() throws {
        let lines = try Self.commandLines()
        #expect(lines.count >= 8)
        for (file, line) in lines {
            let tokens = line.split(separator: " ").map(String.init)
            guard let stage = tokens.first else { continue }
            var helpArgs: [String] = []
            if tokens.count > 1, !tokens[1].hasPrefix("-"), !tokens[1].hasPrefix("$"), !tokens[1].hasPrefix("\"") {
                helpArgs.append(tokens[1])
            }
            let help = try Binaries.run("tandem-\(stage)", helpArgs + ["--help"])
            #expect(help.status == 0, "\(file): `tandem \(line)`: \(help.stderr)")
            for flag in tokens where flag.hasPrefix("--") {
                let name = String(flag.split(separator: "=")[0])
                #expect(
                    help.stdout.contains(name),
                    "\(file): `tandem \(line)` uses \(name), which `tandem \(stage) \(helpArgs.joined()) --help` does not list")
            }
        }
    }

    @Test("ci/run-stage runs a stage with TANDEM_ENV and passes its exit code through")
    func runStage() throws {
        let script = Binaries.repository + "/ci/run-stage"
        let usage = try Binaries.run(script, [])
        #expect(usage.status == 2)
        #expect(usage.stderr.contains("usage: ci/run-stage STAGE"))
    }
}

@Suite("Shell completions")
struct CompletionTests {
    @Test("bash completion offers stages, then a stage's subcommands, then its flags, read from its help")
    func bash() throws {
        let script = """
            source <(tandem completions bash)
            COMP_WORDS=(tandem pro); COMP_CWORD=1; _tandem; echo "1:${COMPREPLY[*]}"
            COMP_WORDS=(tandem promote ap); COMP_CWORD=2; _tandem; echo "2:${COMPREPLY[*]}"
            COMP_WORDS=(tandem promote start --br); COMP_CWORD=3; _tandem; echo "3:${COMPREPLY[*]}"
            COMP_WORDS=(tandem etl --export); COMP_CWORD=2; _tandem; echo "4:${COMPREPLY[*]}"
            """
        let run = try Binaries.run("/bin/bash", ["-c", script], environment: ["PATH": Binaries.folder + ":/usr/bin:/bin"])
        #expect(run.stdout.contains("1:promote"))
        #expect(run.stdout.contains("2:approve"))
        #expect(run.stdout.contains("3:--branch"))
        #expect(run.stdout.contains("4:--export-silver --export-gold"))
        for shell in ["zsh", "fish"] {
            let out = try Binaries.run("tandem", ["completions", shell])
            #expect(out.status == 0 && out.stdout.contains("tandem __"))
        }
        #expect(try Binaries.run("tandem", ["completions", "tcsh"]).status == 2)
    }
}
