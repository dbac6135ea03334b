using System.CommandLine;
using System.Globalization;
using BenchmarkDotNet.Running;
using SelfAttention.CommandLine;

namespace SelfAttention.Benchmarks.Bdn;

/// <summary>
/// <c>bdn [--causal] [--threads N] [--simd] [--job J] [BenchmarkDotNet arguments]</c>: runs
/// <see cref="AttentionBenchmarks"/> and <see cref="ExpBenchmarks"/> through <see cref="BenchmarkSwitcher"/>. The
/// options named here are this project's (<c>--threads</c> and <c>--causal</c> are the shared definitions); every
/// other argument goes to BenchmarkDotNet as given.
/// </summary>
public static class BdnCommand
{
    /// <summary>Creates the command, with its action.</summary>
    public static DocumentedCommand Create()
    {
        Option<bool> causal = CommonOptions.Causal("causal mask, bottom-right aligned (GFLOP/s still counts the dense flops)");
        Option<int> threads = CommonOptions.Threads("MaxDegreeOfParallelism of the library kernels and the peers that take one: -1 (every core) or 1 to 1024");
        var simd = new Option<bool>("--simd")
        {
            Description = "one job per SIMD width: Vector512, Vector256 (DOTNET_EnableAVX512=0), Vector128, Scalar",
            Arity = ArgumentArity.Zero,
        };
        var job = new Option<string>("--job", "-j")
        {
            Description = "BenchmarkDotNet's job (dry, short, medium, long); with --simd, the job each width is built on",
            HelpName = "J",
        };
        var command = new DocumentedCommand("bdn", "BenchmarkDotNet over every implementation × shape, and the exp kernels")
        {
            TreatUnmatchedTokensAsErrors = false,
            Notes = """
                Arguments this command does not name go to BenchmarkDotNet (--filter, --list, --exporters, …).
                Filters match the case name with its parameters: shapes Toy, BertBase, Seq512, Seq2048, Seq4096,
                Decode4096.
                """,
            ExitCodeHelp = "0 success; 1 a benchmark failed or BenchmarkDotNet reported a validation error; 2 bad command line.",
        };
        command.Add(causal);
        command.Add(threads);
        command.Add(simd);
        command.Add(job);
        command.Examples.Add("bdn --filter '*Toy*' --job dry");
        command.Examples.Add("bdn --filter '*BertBase*' '*Decode4096*' --job short");
        command.Examples.Add("bdn --simd --job short --filter '*BertBase*'");
        command.SetAction(parseResult => Run(
            parseResult.GetValue(causal), parseResult.GetValue(threads), parseResult.GetValue(simd), parseResult.GetValue(job), parseResult.UnmatchedTokens));
        return command;
    }

    /// <summary>Runs BenchmarkDotNet; returns the process exit code.</summary>
    private static int Run(bool causal, int threads, bool simd, string? job, IReadOnlyList<string> rest)
    {
        // The benchmarks run in child processes: the settings travel in the environment.
        Environment.SetEnvironmentVariable(BdnSettings.CausalVariable, causal ? "1" : null);
        Environment.SetEnvironmentVariable(BdnSettings.ThreadsVariable, threads.ToString(CultureInfo.InvariantCulture));
        var arguments = new List<string>(rest);
        if (job is not null && !simd)
        {
            // Without --simd the job is BenchmarkDotNet's own option; with it, the width jobs are built on it instead
            // (passed on, BenchmarkDotNet would add it as a fifth job).
            arguments.AddRange(["--job", job]);
        }

        foreach (string line in BdnConfig.Exclusions())
        {
            Console.WriteLine($"// {line}");
        }

        var summaries = BenchmarkSwitcher.FromTypes([typeof(AttentionBenchmarks), typeof(ExpBenchmarks)]).Run([.. arguments], BdnConfig.Create(simd, simd ? job : null));
        bool failed = summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success));
        return failed ? 1 : 0;
    }
}
