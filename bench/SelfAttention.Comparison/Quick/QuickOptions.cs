using SelfAttention.Comparison.Implementations;

namespace SelfAttention.Comparison.Quick;

/// <summary>
/// The options of the quick comparison (<c>quick</c> in the benchmarks exe): read from a command line by
/// <see cref="QuickCommand"/>, then run by <see cref="QuickRunner"/>.
/// </summary>
public sealed record QuickOptions
{
    /// <summary>What the command does, one line.</summary>
    public const string Summary = "validate every implementation against the naive oracle, then time them alternating, medians";

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

    /// <summary>Whether <paramref name="pattern"/> selects <paramref name="name"/>: the whole name or one of its '/'-separated parts, case-insensitive.</summary>
    public static bool Matches(string name, string pattern) =>
        string.Equals(name, pattern, StringComparison.OrdinalIgnoreCase)
        || Array.Exists(name.Split('/'), part => string.Equals(part, pattern, StringComparison.OrdinalIgnoreCase));
}
