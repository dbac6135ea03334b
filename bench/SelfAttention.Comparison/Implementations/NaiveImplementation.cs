using SelfAttention.Reference;

namespace SelfAttention.Comparison.Implementations;

/// <summary>The oracle, <see cref="NaiveAttention"/>: plain loops, double sums. Every other implementation is validated against it and the speedups are over it.</summary>
public sealed class NaiveImplementation : AttentionImplementation
{
    /// <summary>The name of the baseline.</summary>
    public const string BaselineName = "Naive";

    /// <inheritdoc/>
    public override string Name => BaselineName;

    /// <inheritdoc/>
    public override bool IsSlow => true;

    /// <inheritdoc/>
    public override void Run(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value,
                             Span<float> output, AttentionShape shape, AttentionOptions options) =>
        NaiveAttention.ComputeMultiHead(query, key, value, output, shape, options);
}
