using SelfAttention.Reference;

namespace SelfAttention.Comparison.Implementations;

/// <summary>
/// Compares an implementation's output with the naive oracle's. An element passes when
/// <c>|actual − expected| ≤ AbsoluteTolerance + RelativeTolerance·|expected|</c>; NaN where the oracle is finite fails.
/// No implementation is timed before it passes (STYLE.md: "a timed kernel that was not validated first").
/// </summary>
public static class OutputCheck
{
    /// <summary>Absolute part of the per-element tolerance.</summary>
    public const double AbsoluteTolerance = 1e-4;

    /// <summary>Relative part of the per-element tolerance.</summary>
    public const double RelativeTolerance = 1e-3;

    /// <summary>
    /// Small shapes every implementation must match in full before it is timed: grouped-query heads with a value width
    /// different from the key width and lengths that are no multiple of any vector or tile; more query rows than keys
    /// (causal rows that see no key); a square ragged shape, where every alignment of a causal mask agrees (so a peer
    /// that aligns it top-left and cannot serve the first two causal shapes is still checked beyond the toy); and the
    /// toy shape that takes a scalar path.
    /// </summary>
    public static IReadOnlyList<(string Name, AttentionShape Shape)> SmallShapes { get; } =
    [
        ("B2 H4 KvH2 37x53 d24 dv40", new AttentionShape(2, 37, 53, 4, 24) { KvHeads = 2, ValueDim = 40 }),
        ("B1 H2 70x45 d64", new AttentionShape(1, 70, 45, 2, 64)),
        ("B2 H3 33x33 d20", new AttentionShape(2, 33, 33, 3, 20)),
        ("toy B1 H1 3x3 d4", new AttentionShape(1, 3, 3, 1, 4)),
    ];

    /// <summary>Compares two equally long outputs.</summary>
    public static CheckResult Compare(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        if (expected.Length != actual.Length)
        {
            return new CheckResult(double.NaN, 1, $"length {actual.Length}, expected {expected.Length}");
        }

        double maxAbsDiff = 0;
        int faults = 0;
        string? first = null;
        for (int index = 0; index < expected.Length; index++)
        {
            double e = expected[index], a = actual[index];
            double diff = Math.Abs(a - e);
            bool ok = double.IsNaN(e) ? double.IsNaN(a) : diff <= AbsoluteTolerance + RelativeTolerance * Math.Abs(e);
            if (!double.IsNaN(diff))
            {
                maxAbsDiff = Math.Max(maxAbsDiff, diff);
            }

            if (!ok)
            {
                faults++;
                first ??= $"element {index}: {a:G9}, expected {e:G9}";
            }
        }

        return new CheckResult(maxAbsDiff, faults, first);
    }

    /// <summary>Runs the oracle and <paramref name="implementation"/> on fresh buffers of <paramref name="shape"/> and compares every element.</summary>
    public static CheckResult Validate(AttentionImplementation implementation, AttentionShape shape, AttentionOptions options)
    {
        var buffers = new AttentionBuffers(shape, seed: 777);
        var expected = new float[buffers.Output.Length];
        NaiveAttention.ComputeMultiHead(buffers.Query, buffers.Key, buffers.Value, expected, shape, options);
        implementation.Prepare(shape);
        buffers.Run(implementation, options);
        return Compare(expected, buffers.Output);
    }
}

/// <summary>The outcome of a comparison.</summary>
/// <param name="MaxAbsDiff">Largest |actual − expected| over the finite differences.</param>
/// <param name="Faults">Number of elements outside the tolerance.</param>
/// <param name="FirstFault">The first failing element, described, or <see langword="null"/>.</param>
public readonly record struct CheckResult(double MaxAbsDiff, int Faults, string? FirstFault)
{
    /// <summary>True when every element is within the tolerance.</summary>
    public bool Passed => Faults == 0;

    /// <inheritdoc/>
    public override string ToString() =>
        Passed ? $"max |Δ| {MaxAbsDiff:0.0e+0}"
        : double.IsNaN(MaxAbsDiff) ? $"FAILED: {FirstFault}"
        : $"FAILED: {Faults} elements out of tolerance, max |Δ| {MaxAbsDiff:0.0e+0}, first at {FirstFault}";
}
