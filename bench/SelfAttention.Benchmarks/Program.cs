using SelfAttention.Benchmarks;
using SelfAttention.Benchmarks.Bdn;
using SelfAttention.Benchmarks.Commands;
using SelfAttention.Comparison.Implementations;
using SelfAttention.Comparison.Quick;

// dotnet run -c Release --project bench/SelfAttention.Benchmarks -- <command> [options]
string command = args.Length > 0 ? args[0] : "help";
string[] rest = args.Length > 0 ? args[1..] : [];
switch (command)
{
    case "quick":
        QuickOptions options;
        try
        {
            options = QuickOptions.Parse(rest, BenchmarkRegistry.Implementations);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"quick: {e.Message}");
            Console.Error.WriteLine(QuickOptions.Usage);
            return 2;
        }

        return new QuickRunner(options, Console.Out, BenchmarkRegistry.Implementations).Run();

    case "bdn":
        return BdnCommand.Run(rest);

    case "peak":
        Console.WriteLine($"vector width {MachineControls.VectorWidth}");
        Console.WriteLine($"FMA peak, one core, 12 accumulators: {MachineControls.MeasureFmaPeak():0.0} GFLOP/s");
        Console.WriteLine($"streaming read, one core, 256 MiB:  {MachineControls.MeasureStreamingRead():0.0} GB/s");
        return 0;

    case "cache":
        return CacheComparison.Run(Console.Out);

    case "layer":
        return LayerComparison.Run(Console.Out);

    case "gemm":
        return GemmComparison.Run(Console.Out);

    case "exp":
        return ExpComparison.Run(Console.Out);

    case "coldstart":
        return ColdStart.Run(rest, Console.Out);

    case "coldstart-child":
        return ColdStart.RunChild(rest, Console.Out);

    case "list":
        Console.WriteLine($"implementations: {string.Join(", ", BenchmarkRegistry.Implementations.Names)}");
        Console.WriteLine($"shapes: {string.Join("; ", BenchmarkShape.All.Select(s => $"{s.Name} ({string.Join("/", s.Aliases)}) {s.Dimensions}"))}");
        return 0;

    default:
        Console.WriteLine("SelfAttention benchmarks. Commands:");
        Console.WriteLine(QuickOptions.Usage);
        Console.WriteLine(BdnCommand.Usage);
        Console.WriteLine("peak              the FMA-peak and streaming-read controls alone");
        Console.WriteLine("exp               the fused float exp against TensorPrimitives.Exp, and its error");
        Console.WriteLine("gemm              the projection GEMM against OpenBLAS cblas_sgemm");
        Console.WriteLine("layer             a MultiHeadAttention forward pass at BERT-base");
        Console.WriteLine("cache             a decode step against a 4096-token KvCache, float and Half");
        Console.WriteLine(ColdStart.Usage);
        Console.WriteLine("list              implementations and shapes");
        return command is "help" or "--help" or "-h" ? 0 : 2;
}
