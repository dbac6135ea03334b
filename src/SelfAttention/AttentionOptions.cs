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
    /// <c>is_causal</c> is aligned top-left instead, which differs only when the lengths differ: set
    /// <see cref="CausalAlignment"/> to <see cref="SelfAttention.CausalAlignment.TopLeft"/> to get it.
    /// </summary>
    public bool IsCausal { get; init; }

    /// <summary>
    /// Where the causal mask and the <see cref="Window"/> anchor the query rows when the query and key lengths differ:
    /// <see cref="SelfAttention.CausalAlignment.BottomRight"/> (the default, FlashAttention, KV caches: <c>j ≤ i + keyLength − queryLength</c>)
    /// or <see cref="SelfAttention.CausalAlignment.TopLeft"/> (PyTorch's <c>is_causal</c>: <c>j ≤ i</c>). With per-sequence
    /// lengths each sequence uses its own. Must be a defined value.
    /// </summary>
    public CausalAlignment CausalAlignment { get; init; }

    /// <summary>
    /// A sliding window of keys per query row (FlashAttention's <c>window_size</c>), or <see langword="null"/> (the
    /// default) for none; see <see cref="AttentionWindow"/>. Each side must be −1 (unbounded) or at least 0. Combined
    /// with <see cref="IsCausal"/>, a row sees the keys both allow. The kernels skip the tiles outside the window, so the
    /// time follows the visible pairs.
    /// </summary>
    public AttentionWindow? Window { get; init; }

    /// <summary>
    /// Logit soft-capping (Gemma 2), or <see langword="null"/> (the default) for none: every scaled score <c>s</c> becomes
    /// <c>SoftCap·tanh(s / SoftCap)</c> before ALiBi, an additive or boolean mask and the causal mask or window
    /// (scale → softcap → ALiBi/bias → mask → normalise), as FlashAttention's <c>softcap</c>. When set it must be finite and
    /// positive. Applies to every entry point and kernel; the decode kernel does not apply it yet, so such calls run row
    /// by row (or, for a Half KV cache, through the exact path).
    /// </summary>
    public float? SoftCap { get; init; }

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
