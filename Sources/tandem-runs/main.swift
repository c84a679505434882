import TandemCommands

await RunsCommand.runStage()
