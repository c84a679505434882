import TandemCommands

await BenchCommand.runStage()
