using SelfAttention.Comparison.Implementations;

namespace SelfAttention.Comparison.Quick;

/// <summary>What the quick harness measured for one implementation at one shape.</summary>
/// <param name="Shape">The shape.</param>
/// <param name="Implementation">The implementation's name.</param>
/// <param name="Check">The spot check of the last query rows against the oracle, made before any timing.</param>
/// <param name="SecondsPerCall">Median over the rounds of the per-call time; NaN when not timed.</param>
/// <param name="RelativeSpread">Median absolute deviation of the per-round times over their median.</param>
/// <param name="Rounds">Timed rounds.</param>
/// <param name="CallsPerRound">Calls in each timed round's batch.</param>
/// <param name="AllocatedBytes">Bytes allocated per steady-state call on all threads: the least over the timed batches of bytes / calls, rounded up.</param>
internal sealed record Measurement(BenchmarkShape Shape, string Implementation, CheckResult Check, double SecondsPerCall,
                                 double RelativeSpread, int Rounds, long CallsPerRound, long AllocatedBytes)
{
    /// <summary>True when the implementation passed its check and was timed.</summary>
    public bool Timed => !double.IsNaN(SecondsPerCall);

    /// <summary>Dense GFLOP/s.</summary>
    public double GflopsPerSecond => Shape.Flops / SecondsPerCall / 1e9;

    /// <summary>GB/s of K and V read once per call.</summary>
    public double KeyValueGigabytesPerSecond => Shape.KeyValueBytes / SecondsPerCall / 1e9;
}
