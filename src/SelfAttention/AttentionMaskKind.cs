namespace SelfAttention;

/// <summary>
/// How an <see cref="IAttentionModifier{TSelf}"/> masks (its <see cref="IAttentionModifier{TSelf}.MaskKind"/>): not at
/// all, element by element, or by a run of keys per row. Read when the kernels are compiled, so each kind runs its own
/// code and pays only for what it uses.
/// </summary>
public enum AttentionMaskKind
{
    /// <summary>No mask: the modifier only changes scores, and <see cref="IAttentionModifier{TSelf}.IsVisible"/> is never called.</summary>
    None,

    /// <summary>
    /// <see cref="IAttentionModifier{TSelf}.IsVisible"/> decides each element of a partial tile (FlexAttention's
    /// <c>mask_mod</c>), one call per element; <see cref="IAttentionModifier{TSelf}.ClassifyTile"/> can spare the calls on
    /// empty and full tiles.
    /// </summary>
    Elements,

    /// <summary>
    /// <see cref="IAttentionModifier{TSelf}.KeyRange"/> bounds each row (keys outside it are hidden, and not computed),
    /// and <see cref="IAttentionModifier{TSelf}.IsVisible"/> decides the elements inside.
    /// </summary>
    BoundedElements,

    /// <summary>
    /// <see cref="IAttentionModifier{TSelf}.KeyRange"/> is the whole mask: a row sees exactly the keys of its range
    /// (causal, windows, documents: any mask that is one run of keys per row). <see cref="IAttentionModifier{TSelf}.IsVisible"/>
    /// is never called; partial tiles are masked with vector compares, as for the built-in causal mask and window.
    /// </summary>
    Range,
}
