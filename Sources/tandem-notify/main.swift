import TandemCommands

await NotifyCommand.runStage()
