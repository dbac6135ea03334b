namespace SelfAttention;

/// <summary>Options shared by every attention entry point. The default value gives scaled, non-causal softmax attention on the calling thread.</summary>
public readonly record struct AttentionOptions
{
    /// <summary>
    /// The factor applied to every score <c>q·k</c> before masking and normalisation. <see langword="null"/> (the default)
    /// means <c>1/√headDim</c>; <c>1</c> gives the unscaled <c>X·Xᵀ</c> of the simplest textbook examples.
    /// When set it must be finite and positive.
    /// </summary>
    public float? Scale { get; init; }

    /// <summary>
    /// Applies a causal mask, aligned bottom-right: query row <c>i</c> may see key <c>j</c> when
    /// <c>j ≤ i + (keyLength − queryLength)</c>. With equal lengths this is the usual GPT-style lower triangle; with a
    /// longer key (a KV cache) the last query row sees every key. This matches FlashAttention; PyTorch's
    /// <c>is_causal</c> is aligned top-left instead, which differs only when the lengths differ.
    /// </summary>
    public bool IsCausal { get; init; }

    /// <summary>How scores become weights; <see cref="AttentionNormalization.Softmax"/> by default.</summary>
    public AttentionNormalization Normalization { get; init; }

    /// <summary>
    /// How many threads a call may use. 0 or 1: the calling thread only; −1: one per processor.
    /// Results are identical for every value.
    /// </summary>
    public int MaxDegreeOfParallelism { get; init; }

    /// <summary>Which implementation runs; <see cref="AttentionKernel.Auto"/> by default. Ignored by the reference path.</summary>
    public AttentionKernel Kernel { get; init; }
}
