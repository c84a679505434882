import TandemCommands

await LocalCommand.runStage()
