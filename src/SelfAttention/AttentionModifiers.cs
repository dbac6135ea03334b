namespace SelfAttention;

/// <summary>
/// The per-call extras of attention that are buffers rather than settings, so they cannot live in
/// <see cref="AttentionOptions"/> (a record struct, which cannot hold a span): ALiBi slopes and attention sinks per head,
/// a log-sum-exp output, and a dense boolean or additive mask. Pass one to the overloads of
/// <see cref="Attention.Compute(CommunityToolkit.HighPerformance.ReadOnlySpan2D{float}, CommunityToolkit.HighPerformance.ReadOnlySpan2D{float}, CommunityToolkit.HighPerformance.ReadOnlySpan2D{float}, CommunityToolkit.HighPerformance.Span2D{float}, AttentionModifiers, AttentionOptions)"/>,
/// <see cref="Attention.ComputeMultiHead(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, AttentionShape, AttentionModifiers, AttentionOptions)"/> and <see cref="Attention.ComputeMultiHeadPadded(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, AttentionShape, ReadOnlySpan{int}, ReadOnlySpan{int}, AttentionModifiers, AttentionOptions)"/>
/// (and the same overloads of <see cref="Reference.NaiveAttention"/>). Every member is optional: an empty span means
/// "none", so <c>default</c> changes nothing. A one-head call has one head and one sequence.
/// <para>
/// Order of operations (FlashAttention 2; PyTorch SDPA for the masks): <c>s = q·k·scale</c> → softcap
/// (<see cref="AttentionOptions.SoftCap"/>) → <c>+ ALiBi</c> → <c>+ additive mask</c> → boolean mask, causal mask,
/// window, lengths → softmax, whose denominator also holds the sink → weighted sum of values.
/// </para>
/// <example>
/// <code>
/// // BLOOM-style ALiBi over 8 heads, with each row's log-sum-exp.
/// Span&lt;float&gt; slopes = stackalloc float[8];
/// for (int h = 0; h &lt; 8; h++) slopes[h] = MathF.Pow(2, -8f * (h + 1) / 8);
/// float[] lse = new float[batch * 8 * queryLength];
/// Attention.ComputeMultiHead(q, k, v, output, shape, new AttentionModifiers { AlibiSlopes = slopes, LogSumExp = lse });
/// </code>
/// </example>
/// </summary>
public readonly ref struct AttentionModifiers
{
    /// <summary>
    /// ALiBi slopes, <c>[Heads]</c>, each finite; empty for none. Head h adds <c>−slope_h·|i + keyLength − queryLength − j|</c>
    /// to the score of query row i and key j (FlashAttention's <c>alibi_slopes</c>: zero on the bottom-right diagonal,
    /// whatever <see cref="AttentionOptions.CausalAlignment"/> says), after the softcap. With per-sequence lengths the
    /// lengths are the sequence's own.
    /// </summary>
    public ReadOnlySpan<float> AlibiSlopes { get; init; }

    /// <summary>
    /// Attention sinks (GPT-OSS), <c>[Heads]</c> logits, each finite; empty for none. Head h's sink joins every row's
    /// softmax denominator, <c>Σ_j e^(s_j) + e^(sink_h)</c>, with no value, so a row's weights sum to less than 1 and a
    /// row that sees no key still gets zeros. Softmax normalisation only.
    /// </summary>
    public ReadOnlySpan<float> Sinks { get; init; }

    /// <summary>
    /// Receives each row's log-sum-exp, <c>[Batch, Heads, QueryLength]</c> (one head: <c>[QueryLength]</c>), or empty for
    /// none: the natural log of the row's softmax denominator, max included, <c>m + ln Σ_j e^(s_j − m)</c> over the keys
    /// the row sees (and the sink, when there is one); −∞ for a row that sees no key and has no sink. Partial attentions
    /// over disjoint key ranges merge exactly with it: <c>o = Σ_p e^(lse_p − lse)·o_p</c>, <c>lse = ln Σ_p e^(lse_p)</c>.
    /// Must not overlap the inputs or the output. Softmax normalisation only.
    /// </summary>
    public Span<float> LogSumExp { get; init; }

    /// <summary>
    /// A boolean mask with PyTorch's meaning, <c>true</c> = the query row may attend to the key; empty for none. Laid out
    /// by <see cref="MaskStrides"/>. ANDed with the causal mask, the window and the lengths; a row that may attend to
    /// nothing gets zeros (PyTorch would give NaN). Softmax normalisation only; not together with <see cref="AdditiveMask"/>.
    /// </summary>
    public ReadOnlySpan<bool> BooleanMask { get; init; }

    /// <summary>
    /// An additive mask with PyTorch's meaning: added to the scaled score (after softcap and ALiBi), so −∞ hides a key;
    /// empty for none. Laid out by <see cref="MaskStrides"/>. A row whose every visible score is −∞ gets zeros.
    /// Softmax normalisation only; not together with <see cref="BooleanMask"/>.
    /// </summary>
    public ReadOnlySpan<float> AdditiveMask { get; init; }

    /// <summary>
    /// Where element (b, h, i, j) of the dense mask is, in elements; <see langword="null"/> (the default): one
    /// <c>[QueryLength, KeyLength]</c> row-major mask shared by every sequence and head. The mask must hold every element
    /// the strides reach.
    /// </summary>
    public AttentionMaskStrides? MaskStrides { get; init; }
}

/// <summary>
/// The element strides of a dense mask over <c>[Batch, Heads, QueryLength, KeyLength]</c>: element (b, h, i, j) is at
/// <c>b·Batch + h·Head + i·Query + j·Key</c>. PyTorch's broadcasting is stride 0: a mask of shape
/// <c>[B or 1, H or 1, QueryLength, KeyLength]</c> is read in place, never copied. Each stride must be at least 0.
/// </summary>
/// <param name="Batch">Elements between sequences; 0 to share the mask across the batch.</param>
/// <param name="Head">Elements between heads; 0 to share the mask across heads.</param>
/// <param name="Query">Elements between query rows.</param>
/// <param name="Key">Elements between keys (1 for a row-major mask: the fast case).</param>
public readonly record struct AttentionMaskStrides(long Batch, long Head, long Query, long Key)
{
    /// <summary>One row-major <c>[queryLength, keyLength]</c> mask for every sequence and head (PyTorch's 2-D <c>attn_mask</c>).</summary>
    public static AttentionMaskStrides Shared(int keyLength) => new(0, 0, keyLength, 1);

    /// <summary>A row-major mask of shape <c>[batch or 1, heads or 1, queryLength, keyLength]</c>: the strides PyTorch gives it, 0 for a dimension of size 1.</summary>
    /// <param name="perBatch">True for <c>[batch, …]</c>, false for <c>[1, …]</c>.</param>
    /// <param name="heads">Heads in the mask's second dimension: the call's head count, or 1 to share across heads.</param>
    /// <param name="queryLength">The call's query length.</param>
    /// <param name="keyLength">The call's key length.</param>
    public static AttentionMaskStrides Broadcast(bool perBatch, int heads, int queryLength, int keyLength)
    {
        long head = (long)queryLength * keyLength;
        return new(perBatch ? heads * head : 0, heads == 1 ? 0 : head, keyLength, 1);
    }
}
