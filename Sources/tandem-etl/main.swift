import TandemCommands

await EtlCommand.runStage()
