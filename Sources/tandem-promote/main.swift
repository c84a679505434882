import TandemCommands

await PromoteCommand.runStage()
