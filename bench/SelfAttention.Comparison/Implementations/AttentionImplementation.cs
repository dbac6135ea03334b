namespace SelfAttention.Comparison.Implementations;

/// <summary>
/// One way to compute multi-head attention over BSNH buffers, with the signature of
/// <see cref="Attention.ComputeMultiHead(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, AttentionShape, AttentionOptions)"/>. The BenchmarkDotNet class and the quick harness both take every
/// implementation from an <see cref="ImplementationRegistry"/>, so a new kernel is timed by adding one line there.
/// </summary>
public abstract class AttentionImplementation
{
    /// <summary>The name shown in every table and matched by filters.</summary>
    public abstract string Name { get; }

    /// <summary>
    /// True for implementations that take seconds per call at the long shapes (the naive oracle; a peer built on
    /// general-purpose managed matrices); they are timed only at shapes whose
    /// <see cref="BenchmarkShape.IncludesSlowImplementations"/> is set.
    /// </summary>
    public virtual bool IsSlow => false;

    /// <summary>True when the implementation honours <see cref="AttentionOptions.MaxDegreeOfParallelism"/>; most peers run on one thread.</summary>
    public virtual bool UsesThreads => false;

    /// <summary>Why it cannot run on this machine (a missing native library), or <see langword="null"/> when it can.</summary>
    public virtual string? UnavailableReason => null;

    /// <summary>
    /// Why the implementation cannot compute <paramref name="shape"/> with <paramref name="options"/> as this library
    /// defines it (a peer without grouped-query heads, or whose causal mask is aligned differently), or
    /// <see langword="null"/> when it can. The harnesses skip such a pair with this reason instead of validating or
    /// timing it.
    /// </summary>
    public virtual string? UnsupportedReason(AttentionShape shape, AttentionOptions options) => null;

    /// <summary>Allocates whatever scratch a call at <paramref name="shape"/> needs, so that <see cref="Run"/> itself allocates nothing (unless that is the implementation's nature).</summary>
    public virtual void Prepare(AttentionShape shape)
    {
    }

    /// <summary>
    /// Computes attention. query <c>[Batch, QueryLength, Heads·HeadDim]</c>, key <c>[Batch, KeyLength, KvHeads·HeadDim]</c>,
    /// value <c>[Batch, KeyLength, KvHeads·ValueDim]</c>, output <c>[Batch, QueryLength, Heads·ValueDim]</c>.
    /// <see cref="Prepare"/> has been called with the same shape.
    /// </summary>
    public abstract void Run(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value,
                             Span<float> output, AttentionShape shape, AttentionOptions options);

    /// <inheritdoc/>
    public override string ToString() => Name;
}
