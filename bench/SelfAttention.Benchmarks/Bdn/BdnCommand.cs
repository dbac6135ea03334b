using System.Globalization;
using BenchmarkDotNet.Running;

namespace SelfAttention.Benchmarks.Bdn;

/// <summary>
/// <c>bdn [--causal] [--threads N] [--simd] [BenchmarkDotNet arguments]</c>: runs <see cref="AttentionBenchmarks"/>
/// through <see cref="BenchmarkSwitcher"/>; the options before the BenchmarkDotNet arguments are this project's.
/// </summary>
public static class BdnCommand
{
    /// <summary>The command-line help.</summary>
    public const string Usage = """
        bdn [options] [BenchmarkDotNet arguments]   BenchmarkDotNet over every implementation × shape
          --causal          causal mask (GFLOP/s still counts the dense flops)
          --threads N       MaxDegreeOfParallelism for the library kernels (default 1)
          --simd            one job per SIMD width: Vector512, Vector256 (DOTNET_EnableAVX512=0), Vector128, Scalar;
                            put --simd first: a later --job dry|short|medium|long is then applied to each width
          e.g. bdn --filter '*Toy*' --job dry;  bdn --filter '*BertBase*' '*Decode4096*' --job short;  bdn --list flat
          (filters match the case name with its parameters: shapes Toy, BertBase, Seq512, Seq2048, Seq4096, Decode4096)
        """;

    /// <summary>Runs BenchmarkDotNet; returns the process exit code.</summary>
    public static int Run(IReadOnlyList<string> args)
    {
        bool simd = false;
        string? baseJob = null;
        var rest = new List<string>();
        for (int a = 0; a < args.Count; a++)
        {
            switch (args[a])
            {
                case "--causal":
                    Environment.SetEnvironmentVariable(BdnSettings.CausalVariable, "1");
                    break;
                case "--threads" when a + 1 < args.Count && int.TryParse(args[a + 1], NumberStyles.Integer, CultureInfo.InvariantCulture, out _):
                    Environment.SetEnvironmentVariable(BdnSettings.ThreadsVariable, args[++a]);
                    break;
                case "--simd":
                    simd = true;
                    break;
                case "--job" or "-j" when simd && a + 1 < args.Count:
                    // With --simd the width jobs are built on this one; passed on, BenchmarkDotNet would add it as a fifth job.
                    baseJob = args[++a];
                    break;
                default:
                    rest.Add(args[a]);
                    break;
            }
        }

        foreach (string line in BdnConfig.Exclusions())
        {
            Console.WriteLine($"// {line}");
        }

        var summaries = BenchmarkSwitcher.FromTypes([typeof(AttentionBenchmarks), typeof(ExpBenchmarks)]).Run(rest.ToArray(), BdnConfig.Create(simd, baseJob));
        bool failed = summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success));
        return failed ? 1 : 0;
    }
}
