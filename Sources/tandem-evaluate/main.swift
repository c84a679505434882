import TandemCommands

await EvaluateCommand.runStage()
