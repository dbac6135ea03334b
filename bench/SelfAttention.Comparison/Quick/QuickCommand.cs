using System.CommandLine;
using System.CommandLine.Parsing;
using SelfAttention.CommandLine;
using SelfAttention.Comparison.Implementations;

namespace SelfAttention.Comparison.Quick;

/// <summary>
/// <c>quick [options]</c>: the quick comparison's command line (its options, their ranges, help and completions),
/// on the shared command-line layer, so <c>--threads</c> and <c>--causal</c> are the very definitions the tool uses.
/// </summary>
public static class QuickCommand
{
    /// <summary>Creates the command; its action validates and times through <see cref="QuickRunner"/>.</summary>
    /// <param name="registry">The implementations <c>--impl</c> may name and the runner times.</param>
    /// <returns>The command, with its action.</returns>
    public static DocumentedCommand Create(ImplementationRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        var shapes = new Option<IReadOnlyList<BenchmarkShape>?>("--shapes")
        {
            Description = $"shapes to time, comma-separated (default: all): {ShapeNames}",
            HelpName = "a,b",
            CustomParser = ParseShapes,
        };
        shapes.CompletionSources.Add(context => CompleteList(context, BenchmarkShape.All.Select(s => s.Aliases.Length > 0 ? s.Aliases[0] : s.Name)));
        var implementations = new Option<IReadOnlyList<string>?>("--impl", "--implementations")
        {
            Description = "implementations to time, comma-separated, by name or one '/'-part of it (default: all; Naive always runs as the oracle), e.g. tiled,openblas",
            HelpName = "a,b",
            CustomParser = result => ParseImplementations(result, registry),
        };
        implementations.CompletionSources.Add(context => CompleteList(context, registry.Names));
        Option<int> threads = CommonOptions.Threads("MaxDegreeOfParallelism of the library kernels and the peers that take one: -1 (every core) or 1 to 1024");
        Option<bool> causal = CommonOptions.Causal("causal mask, bottom-right aligned (GFLOP/s still counts the dense flops)");
        var seconds = new Option<double>("--seconds")
        {
            Description = $"time budget for warm-up and timing over all shapes, more than 0 and at most {QuickOptions.MaxSeconds}",
            HelpName = "S",
            DefaultValueFactory = _ => new QuickOptions().Seconds,
            CustomParser = result => CommonOptions.ParseSeconds(result, allowZero: false, QuickOptions.MaxSeconds),
        };
        var warmup = new Option<double>("--warmup")
        {
            Description = $"minimum warm-up per implementation over the run, 0 to {QuickOptions.MaxWarmupSeconds} (the tiered JIT recompiles late)",
            HelpName = "S",
            DefaultValueFactory = _ => new QuickOptions().WarmupSeconds,
            CustomParser = result => CommonOptions.ParseSeconds(result, allowZero: true, QuickOptions.MaxWarmupSeconds),
        };
        var noPeak = new Option<bool>("--no-peak") { Description = "skip the controls: FMA peak, streaming read, decode's (read K+V) row", Arity = ArgumentArity.Zero };

        var command = new DocumentedCommand("quick", QuickOptions.Summary)
        {
            Notes = """
                Every implementation is first checked against the naive oracle; one that disagrees is reported and
                not timed. OpenBLAS (cblas_sgemm from libopenblas.so.0, Debian package libopenblas0) is used when
                installed and skipped with one line when not. All figures come from this one process.
                """,
            ExitCodeHelp = "0 success; 1 an implementation failed validation; 2 bad command line.",
        };
        foreach (Option option in new Option[] { shapes, implementations, threads, causal, seconds, warmup, noPeak })
        {
            command.Add(option);
        }

        command.Examples.Add("quick --shapes toy,bert --seconds 10");
        command.Examples.Add("quick --shapes 512 --impl auto,ort,openblas --threads 2 --causal");
        command.SetAction(parseResult =>
        {
            var options = new QuickOptions
            {
                Shapes = parseResult.GetValue(shapes) ?? BenchmarkShape.All,
                Implementations = parseResult.GetValue(implementations),
                Threads = parseResult.GetValue(threads),
                Causal = parseResult.GetValue(causal),
                Seconds = parseResult.GetValue(seconds),
                WarmupSeconds = parseResult.GetValue(warmup),
                Peak = !parseResult.GetValue(noPeak),
            };
            return new QuickRunner(options, parseResult.InvocationConfiguration.Output, registry).Run();
        });
        return command;
    }

    private static string ShapeNames => string.Join(", ", BenchmarkShape.All.Select(s => s.Aliases.Length > 0 ? s.Aliases[0] : s.Name));

    private static IReadOnlyList<BenchmarkShape>? ParseShapes(ArgumentResult result)
    {
        var shapes = new List<BenchmarkShape>();
        foreach (string name in CommonOptions.SplitList(result.Tokens[^1].Value))
        {
            if (BenchmarkShape.Find(name) is { } shape)
            {
                shapes.Add(shape);
            }
            else
            {
                result.AddError($"{CommonOptions.OptionName(result)}: unknown shape '{CliText.Echo(name)}'; known: {ShapeNames}.");
                return BenchmarkShape.All;
            }
        }

        if (shapes.Count == 0)
        {
            result.AddError($"{CommonOptions.OptionName(result)} names no shape; known: {ShapeNames}.");
        }

        return shapes;
    }

    private static IReadOnlyList<string>? ParseImplementations(ArgumentResult result, ImplementationRegistry registry)
    {
        string[] names = CommonOptions.SplitList(result.Tokens[^1].Value);
        foreach (string name in names)
        {
            if (!registry.Names.Any(n => QuickOptions.Matches(n, name)))
            {
                result.AddError($"{CommonOptions.OptionName(result)}: unknown implementation '{CliText.Echo(name)}'; known: {string.Join(", ", registry.Names)}.");
                return null;
            }
        }

        if (names.Length == 0)
        {
            result.AddError($"{CommonOptions.OptionName(result)} names no implementation.");
        }

        return names;
    }

    // Completes the last entry of a comma-separated list: "auto,ti" offers "auto,tiled".
    private static IEnumerable<string> CompleteList(System.CommandLine.Completions.CompletionContext context, IEnumerable<string> names)
    {
        string word = context.WordToComplete;
        int comma = word.LastIndexOf(',');
        string head = comma < 0 ? "" : word[..(comma + 1)], last = word[(comma + 1)..];
        return names.Where(n => n.StartsWith(last, StringComparison.OrdinalIgnoreCase)).Select(n => head + n);
    }
}
