import TandemBench

await BenchCommand.runStage()
