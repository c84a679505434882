public import ArgumentParser
import Foundation
import TandemCore
import TandemStorage
@_exported public import TandemTerminal

/// A Tandem stage: parses its arguments and maps every failure to Tandem's exit codes (docs/architecture.md, "Exit codes")
/// (2 for bad usage, where ArgumentParser alone would use 64).
public protocol StageCommand: AsyncParsableCommand {}

extension StageCommand {
    /// Runs the stage with the process's arguments, then exits with Tandem's exit codes.
    public static func runStage() async {
        await runStage(Array(CommandLine.arguments.dropFirst()))
    }

    /// Runs the stage with the given arguments, then exits.
    public static func runStage(_ arguments: [String]) async {
        let code: Int32
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            code = 0
        } catch {
            code = report(error)
        }
        fflush(nil)
        Foundation.exit(code)
    }

    /// Prints an error the way people and CI read it, and returns the exit code.
    static func report(_ error: any Error) -> Int32 {
        if let tandem = error as? any TandemError {
            Terminal.error(tandem.description)
            return tandem.exitStatus.rawValue
        }
        if let exit = error as? ExitCode { return exit.rawValue }
        // A database or file-system failure no store named is still infrastructure (exit 3), never exit 1.
        if let storage = WriteFailure.typed(error) {
            Terminal.error(storage.description)
            return storage.exitStatus.rawValue
        }
        let code = exitCode(for: error)
        let message = fullMessage(for: error)
        if code == .success {
            if !message.isEmpty { print(message) }
            return 0
        }
        if !message.isEmpty { Terminal.errorRaw(message) }
        return code == .validationFailure ? ExitStatus.badInput.rawValue : code.rawValue
    }
}
