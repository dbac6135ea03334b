namespace SelfAttention;

/// <summary>
/// What <see cref="IAttentionModifier{TSelf}.KeyRange"/> means for a modifier (its <see cref="IAttentionModifier{TSelf}.RowKeys"/>).
/// </summary>
public enum AttentionRowKeys
{
    /// <summary>No range: every key may be visible, and the kernels ask <see cref="IAttentionModifier{TSelf}.IsVisible"/> about each one of a partial tile.</summary>
    All,

    /// <summary>The range is a bound: keys outside it are hidden, and the ones inside are asked about.</summary>
    Bound,

    /// <summary>The range is the mask: a row sees exactly the keys inside it, and <see cref="IAttentionModifier{TSelf}.IsVisible"/> is never called (the kernels mask with vector compares, as for the built-in causal mask and window).</summary>
    Exact,
}
