public import ArgumentParser
import Foundation
import TandemCore

/// The flags every stage takes.
public struct CommonOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp("The environment to run in (dev, test, prod…); defaults to $TANDEM_ENV.", valueName: "name"))
    public var env: String?

    @Flag(name: .long, help: "Print one JSON document instead of human text.")
    public var json = false

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The repository root holding environments/ (defaults to $TANDEM_PROJECT, else the nearest parent folder that has one).",
            valueName: "dir"))
    public var project: String?

    public init() {}

    /// The environment named by `--env`, else `TANDEM_ENV`.
    public func environmentName() throws -> String {
        if let env, !env.isEmpty { return env }
        if let fromEnv = ProcessInfo.processInfo.environment["TANDEM_ENV"], !fromEnv.isEmpty { return fromEnv }
        throw Failure(
            .invalidInput, "no environment given; pass --env NAME or set TANDEM_ENV (run `tandem env list` to see them)")
    }
}

/// The text every stage's help ends with.
let exitCodesHelp = ExitStatus.help
