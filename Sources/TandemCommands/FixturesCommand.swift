public import ArgumentParser
import Foundation
import TandemCore
import TandemFeatures
import TandemLakehouse

/// `tandem fixtures generate`: raw data of any size in the format of docs/data-contract.md.
public struct FixturesCommand: StageCommand {
    public static let configuration = CommandConfiguration(
        commandName: "fixtures",
        _superCommandName: "tandem",
        abstract: "Generate raw search judgments and videos of any size, with realistic dirt and a learnable signal.",
        discussion: "\(exitCodesHelp)",
        version: TandemVersion.current,
        subcommands: [Generate.self])

    public init() {}

    struct Generate: StageCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write videos.jsonl and judgments.jsonl to a folder.",
            discussion: """
                About 30 judgments per query (so --queries 33000 gives about a million judgment lines), about 1% \
                malformed lines of every kind docs/data-contract.md names, URL variants, query surface forms, unknown keys and \
                re-judged duplicates. The same seed gives the same bytes.

                Example: tandem fixtures generate --queries 200 --seed 7 --out fixtures/sample

                \(exitCodesHelp)
                """)

        @Option(help: "Number of queries to generate.") var queries: Int = 200
        @Option(help: "Random seed.") var seed: UInt64 = 1
        @Option(help: "Earlier observations of every video (with observed_at) written before its current line.")
        var history: Int = 0
        @Option(help: ArgumentHelp("Output folder.", valueName: "dir")) var out: String
        @Flag(help: "Print a JSON summary.") var json = false

        func validate() throws {
            guard queries >= 1 && queries <= 10_000_000 else {
                throw ValidationError("--queries must be from 1 to 10000000, not \(queries)")
            }
        }

        func run() throws {
            guard (0...100).contains(history) else {
                throw ValidationError("--history \(history): give 0 to 100 earlier observations per video")
            }
            var generator = FixtureGenerator(queries: queries, seed: seed)
            generator.history = history
            let summary = try generator.write(to: out)
            if json {
                try Terminal.printJSON(summary)
            } else {
                print(
                    "wrote \(summary.videoLines) video lines and \(summary.judgmentLines) judgment lines "
                        + "(\(summary.queries) queries, \(summary.videos) videos) to \(out)")
            }
        }
    }
}
