using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Wsd.Bench.TarHeaderBenchmarks).Assembly).Run(args);
