import TandemCommands

await ModelsCommand.runStage()
