using SelfAttention.Cli.CommandLine;
using SelfAttention.Comparison.Quick;

namespace SelfAttention.Cli.Commands;

/// <summary>
/// <c>selfattention bench</c>: the quick comparison table of the benchmarks project (bench/SelfAttention.Comparison),
/// the same harness that <c>dotnet run --project bench/SelfAttention.Benchmarks -- quick</c> runs, without the MathNet
/// peer (not NativeAOT-compatible) and BenchmarkDotNet.
/// </summary>
internal sealed class BenchCommand : ICommand
{
    public string Name => "bench";

    public string Summary => "the quick comparison table: library kernels against naive, TensorPrimitives, OpenBLAS";

    public string Help =>
        $"""
        Usage: selfattention bench [options]

        The quick comparison table: {QuickOptions.Summary}.
        Every implementation is first checked against the naive oracle; one that disagrees is reported
        and not timed. OpenBLAS (cblas_sgemm from libopenblas.so.0, Debian package libopenblas0) is used
        when installed and skipped with one line when not. All figures come from this one process.

        Options:
        {QuickOptions.OptionsUsage}
          -h, --help        this text

        Exit codes: 0 success; 1 an implementation failed validation; 2 bad option.

        Examples:
          selfattention bench --shapes toy,bert --seconds 10
          selfattention bench --shapes 512 --threads 2 --causal

        """;

    public int Run(ArgumentReader arguments, TextWriter output, TextWriter error)
    {
        QuickOptions options;
        try
        {
            options = QuickOptions.Parse(arguments.TakeAll());
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"{Name}: {e.Message}");
        }

        return new QuickRunner(options, output).Run();
    }
}
