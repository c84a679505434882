import TandemCommands

await EnvCommand.runStage()
