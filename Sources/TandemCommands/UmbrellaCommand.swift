import Foundation
import TandemCore
import TandemDispatch

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
    ]

    /// Resolves the stage and replaces this process with it.
    public static func run() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
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
        switch resolver.resolve(stage) {
        case .failure(let failure):
            Terminal.error(failure.description)
            exit(ExitStatus.badInput.rawValue)
        case .success(let path):
            let argv = [path] + arguments.dropFirst()
            var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) }
            cArgs.append(nil)
            execv(path, cArgs)
            Terminal.error("cannot run \(path): \(String(cString: strerror(errno)))")
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
        print("\nEvery stage takes --env NAME (or $TANDEM_ENV) and --json.\n\(exitCodesHelp)")
    }

    static func ownFolder() -> String {
        let resolved =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        return (resolved as NSString).deletingLastPathComponent
    }

    static func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }
}
