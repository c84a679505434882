import TandemCommands

await FixturesCommand.runStage()
