import TandemCommands

await UmbrellaCommand.run()
