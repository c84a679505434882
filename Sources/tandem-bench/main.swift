import TandemBench
import TandemCommands

await BenchCommand.runStage()
