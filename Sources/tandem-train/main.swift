import TandemCommands

await TrainCommand.runStage()
