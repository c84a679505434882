import TandemCommands

await FeaturesCommand.runStage()
