import Foundation
import TandemCore

/// `tandem STAGE ARGS…`: runs `tandem-STAGE` found beside `tandem`, then on `PATH`, as git does with its
/// subcommands, so a team's own `tandem-foo` on `PATH` works as `tandem foo`.
public enum UmbrellaCommand {
    static let builtIn: [(String, String)] = [
        ("env", "list, show and check environment profiles"),
        ("etl", "bronze → silver → gold, registers a feature table version"),
        ("features", "feature table versions and feature definitions"),
        ("fixtures", "generate raw data of any size"),
        ("train", "train, track the run, register the model version"),
        ("evaluate", "score model versions; champion/challenger report"),
        ("promote", "start, status, approve, reject, recover, rollback, list"),
        ("notify", "deliver the webhook outbox"),
        ("jobs", "submit a stage as a job (local:// or slurm://); list, cancel, recover"),
        ("runs", "list, show and compare tracked training runs"),
        ("models", "versions, aliases, lock-file verification, audit history"),
        ("local", "the test environment end to end on this machine"),
        ("bench", "benchmarks whose figures go into docs/benchmarks.md"),
    ]

    /// Words that stand for a stage and its subcommand: `tandem submit …` is `tandem jobs submit …`.
    static let aliases: [String: [String]] = ["submit": ["jobs", "submit"]]

    /// Resolves the stage and replaces this process with it.
    public static func run() async {
        var arguments = Array(CommandLine.arguments.dropFirst())
        // Aliases stand for a stage and its subcommand, for running and for completing alike.
        let at = arguments.first == "__complete" ? 1 : 0
        if arguments.count > at, let expansion = aliases[arguments[at]] {
            arguments.replaceSubrange(at...at, with: expansion)
        }
        let resolver = StageResolver(
            ownFolder: ownFolder(), path: ProcessInfo.processInfo.environment["PATH"],
            isExecutable: { access($0, X_OK) == 0 && !isDirectory($0) })
        guard let stage = arguments.first, !["-h", "--help", "help"].contains(stage) else {
            printOverview(resolver)
            exit(arguments.isEmpty ? 0 : 0)
        }
        if stage == "--version" {
            print(TandemVersion.current)
            exit(0)
        }
        if stage == "--experimental-dump-help" {
            // What ArgumentParser's generate-manual plugin reads, so `swift package generate-manual` covers `tandem` too.
            let info: [String: Any] = [
                "serializationVersion": 0,
                "command": [
                    "commandName": "tandem", "shouldDisplay": true,
                    "abstract": "Takes ranking models from raw data to production across environments.",
                    "discussion": "tandem STAGE [ARGS…] runs tandem-STAGE found beside tandem, then on PATH. Stages: "
                        + builtIn.map { "\($0.0) (\($0.1))" }.joined(separator: "; ") + ". " + ExitStatus.help,
                ] as [String: Any],
            ]
            if let data = try? JSONSerialization.data(withJSONObject: info, options: [.sortedKeys]) {
                print(String(decoding: data, as: UTF8.self))
            }
            exit(0)
        }
        if stage == "completions" {

            guard arguments.count == 2, let script = Completions.script(arguments[1]) else {
                printError("usage: tandem completions bash|zsh|fish   (bash: source <(tandem completions bash))")
                exit(ExitStatus.badInput.rawValue)
            }
            print(script, terminator: "")
            exit(0)
        }
        if stage == "__stages" {
            let found = resolver.listStages { folder in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] }
            print((found.map(\.stage) + ["completions"] + aliases.keys.sorted()).joined(separator: "\n"))
            exit(0)
        }
        if stage == "__complete", arguments.count >= 2, case .success(let path) = resolver.resolve(arguments[1]) {
            let sub = arguments.count >= 3 && !arguments[2].hasPrefix("-") ? [arguments[2]] : []
            let process = Process()
            process.executableURL = URL(fileURLWithPath: path)
            process.arguments = sub + ["--help"]
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try? process.run()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            print(Completions.words(helpText: text, includeSubcommands: sub.isEmpty).joined(separator: "\n"))
            exit(0)
        }

        switch resolver.resolve(stage) {
        case .failure(let failure):
            printError(failure.description)
            exit(ExitStatus.badInput.rawValue)
        case .success(let path):
            let argv = [path] + arguments.dropFirst()
            var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) }
            cArgs.append(nil)
            execv(path, cArgs)
            printError("cannot run \(path): \(String(cString: strerror(errno)))")
            exit(ExitStatus.infrastructure.rawValue)
        }
    }

    static func printOverview(_ resolver: StageResolver) {
        print(
            """
            Tandem \(TandemVersion.current): takes ranking models from raw data to production across environments.

            USAGE: tandem STAGE [ARGS…]    (runs tandem-STAGE; `tandem STAGE --help` for its options)

            STAGES:
            """)
        let found = resolver.listStages { folder in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] }
        let descriptions = Dictionary(uniqueKeysWithValues: builtIn)
        for (stage, path) in found {
            let about = descriptions[stage] ?? "third-party stage (\(path))"
            print("  " + stage.padding(toLength: 12, withPad: " ", startingAt: 0) + about)
        }
        print("\nEvery stage takes --env NAME (or $TANDEM_ENV) and --json.\n\(ExitStatus.help)")
    }

    public static func ownFolder() -> String {
        let resolved =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        return (resolved as NSString).deletingLastPathComponent
    }

    public static func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }

    /// `error: MESSAGE` on stderr, on a line of its own (the stages print theirs the same way).
    static func printError(_ message: String) {
        FileHandle.standardError.write(Data(("error: " + message + "\n").utf8))
    }
}
