import TandemDispatch

await UmbrellaCommand.run()
