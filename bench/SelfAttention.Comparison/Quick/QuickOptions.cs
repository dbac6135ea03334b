using System.Globalization;
using SelfAttention.Comparison.Implementations;

namespace SelfAttention.Comparison.Quick;

/// <summary>
/// The options of the quick comparison (<c>quick</c> in the benchmarks exe, <c>selfattention bench</c>): parse them
/// with <see cref="Parse"/>, then run <see cref="QuickRunner"/>.
/// </summary>
public sealed record QuickOptions
{
    /// <summary>What the command does, one line.</summary>
    public const string Summary = "validate every implementation against the naive oracle, then time them alternating, medians";

    /// <summary>The options, one per line, each indented by two spaces, for a host to put under its own command line.</summary>
    public const string OptionsUsage = """
          --shapes a,b      shapes to time (default: all): toy, bert, 512, 2048, 4096, decode
          --impl a,b        implementations to time (default: all; Naive always runs as the oracle), e.g. tiled,openblas
          --threads N       MaxDegreeOfParallelism for the library kernels, 1 to 1024 or -1 for every core
                            (default 1; the peers use one thread)
          --causal          causal mask (GFLOP/s still counts the dense flops)
          --seconds S       time budget for warm-up and timing over all shapes, more than 0 and at most
                            86400 (default 30)
          --warmup S        minimum warm-up per implementation over the run, 0 to 3600 (default 1.0; the
                            tiered JIT recompiles late)
          --no-peak         skip the controls: FMA peak, streaming read, decode's (read K+V) row
        """;

    /// <summary>The help of the benchmarks exe's <c>quick</c> command: <c>quick [options]</c>, <see cref="Summary"/>, <see cref="OptionsUsage"/>.</summary>
    public const string Usage = "quick [options]   " + Summary + "\n" + OptionsUsage;

    /// <summary>The largest <c>--threads</c>; -1 means one per processor.</summary>
    public const int MaxThreads = 1024;

    /// <summary>The largest <c>--seconds</c>: a day.</summary>
    public const double MaxSeconds = 86400;

    /// <summary>The largest <c>--warmup</c>: an hour.</summary>
    public const double MaxWarmupSeconds = 3600;

    /// <summary>The shapes to time, in table order.</summary>
    public IReadOnlyList<BenchmarkShape> Shapes { get; init; } = BenchmarkShape.All;

    /// <summary>Names of the implementations to time, or <see langword="null"/> for all.</summary>
    public IReadOnlyList<string>? Implementations { get; init; }

    /// <summary><see cref="AttentionOptions.MaxDegreeOfParallelism"/> of the library calls.</summary>
    public int Threads { get; init; } = 1;

    /// <summary>Whether the calls are causal.</summary>
    public bool Causal { get; init; }

    /// <summary>Seconds of warm-up and timing over all shapes; each shape gets an equal share of what is left.</summary>
    public double Seconds { get; init; } = 30;

    /// <summary>Minimum warm-up seconds per implementation, accumulated over the run, before its first timed round.</summary>
    public double WarmupSeconds { get; init; } = 1.0;

    /// <summary>Whether the FMA-peak and streaming-read controls run first.</summary>
    public bool Peak { get; init; } = true;

    /// <summary>The options every timed call gets.</summary>
    public AttentionOptions AttentionOptions => new() { IsCausal = Causal, MaxDegreeOfParallelism = Threads };

    /// <summary>Parses the arguments after the command name (<see cref="OptionsUsage"/>).</summary>
    /// <param name="args">The arguments; none gives the defaults.</param>
    /// <param name="registry">The implementations <c>--impl</c> may name; <see cref="ImplementationRegistry.Default"/> when
    /// <see langword="null"/>. Pass the same registry to <see cref="QuickRunner"/>.</param>
    /// <exception cref="ArgumentException">An option is unknown, lacks its value, or its value is invalid; the message
    /// says which (a command line maps it to exit code 2 and prints <see cref="OptionsUsage"/>).</exception>
    public static QuickOptions Parse(IReadOnlyList<string> args, ImplementationRegistry? registry = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        registry ??= ImplementationRegistry.Default;
        var options = new QuickOptions();
        for (int a = 0; a < args.Count; a++)
        {
            string arg = args[a];
            options = arg switch
            {
                "--shapes" => options with { Shapes = ParseShapes(Value(args, ref a)) },
                "--impl" or "--implementations" => options with { Implementations = ParseImplementations(Value(args, ref a), registry) },
                "--threads" => options with { Threads = ParseThreads(arg, Value(args, ref a)) },
                "--causal" => options with { Causal = true },
                "--seconds" => options with { Seconds = ParseSeconds(arg, Value(args, ref a), allowZero: false, MaxSeconds) },
                "--warmup" => options with { WarmupSeconds = ParseSeconds(arg, Value(args, ref a), allowZero: true, MaxWarmupSeconds) },
                "--no-peak" => options with { Peak = false },
                _ => throw new ArgumentException($"unknown option '{Echo(arg)}'"),
            };
        }

        return options;
    }

    private static string Value(IReadOnlyList<string> args, ref int index)
    {
        if (index + 1 >= args.Count)
        {
            throw new ArgumentException($"{Echo(args[index])} needs a value");
        }

        return args[++index];
    }

    private static BenchmarkShape[] ParseShapes(string list) =>
        Array.ConvertAll(Split(list), name => BenchmarkShape.Find(name)
            ?? throw new ArgumentException($"unknown shape '{Echo(name)}'; known: toy, bert, 512, 2048, 4096, decode"));

    private static string[] ParseImplementations(string list, ImplementationRegistry registry)
    {
        string[] names = Split(list);
        foreach (string name in names)
        {
            if (!registry.Names.Any(n => Matches(n, name)))
            {
                throw new ArgumentException($"unknown implementation '{Echo(name)}'; known: {string.Join(", ", registry.Names)}");
            }
        }

        return names;
    }

    /// <summary>Whether <paramref name="pattern"/> selects <paramref name="name"/>: the whole name or one of its '/'-separated parts, case-insensitive.</summary>
    public static bool Matches(string name, string pattern) =>
        string.Equals(name, pattern, StringComparison.OrdinalIgnoreCase)
        || Array.Exists(name.Split('/'), part => string.Equals(part, pattern, StringComparison.OrdinalIgnoreCase));

    private static string[] Split(string list) => list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    // -1 (one thread per processor) or 1 … MaxThreads; 0 would silently mean one thread.
    private static int ParseThreads(string name, string text) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && (value == -1 || value is >= 1 and <= MaxThreads)
            ? value : throw new ArgumentException($"{name} needs -1 (every core) or an integer from 1 to {MaxThreads}, got '{Echo(text)}'");

    // A finite number of seconds in (0, max], or [0, max] with allowZero; NaN and ∞ are refused.
    private static double ParseSeconds(string name, string text, bool allowZero, double max)
    {
        bool parsed = double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value);
        if (parsed && double.IsFinite(value) && (allowZero ? value >= 0 : value > 0) && value <= max)
        {
            return value;
        }

        string range = allowZero ? $"from 0 to {max}" : $"more than 0 and at most {max}";
        throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{name} needs a number of seconds {range}, got '{Echo(text)}'"));
    }

    // A user's text inside a message: control characters escaped, at most 200 characters, so a message stays one
    // short line whatever was typed.
    private static string Echo(string text)
    {
        const int Max = 200;
        var sb = new System.Text.StringBuilder(Math.Min(text.Length, Max + 8));
        foreach (char c in text)
        {
            if (sb.Length >= Max)
            {
                sb.Append('…');
                break;
            }

            if (char.IsControl(c) || c is '\u2028' or '\u2029')
            {
                sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
            }
            else
            {
                sb.Append(c);
            }
        }

        return sb.ToString();
    }
}
