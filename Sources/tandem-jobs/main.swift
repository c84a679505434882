import TandemCommands

await JobsCommand.runStage()
