namespace SelfAttention;

/// <summary>
/// What an <see cref="IAttentionModifier{TSelf}"/> says about a tile (a block of query rows × a block of keys) through
/// <see cref="IAttentionModifier{TSelf}.ClassifyTile"/>: FlexAttention's block classification.
/// </summary>
public enum AttentionTile
{
    /// <summary>No promise: the kernel asks <see cref="IAttentionModifier{TSelf}.IsVisible"/> about every element of the tile. Always correct.</summary>
    Partial,

    /// <summary>No query row of the tile may see any of its keys: the kernel skips the tile and does not even read its keys.</summary>
    Empty,

    /// <summary>Every query row of the tile may see every one of its keys: the kernel runs its unmasked loop there and never asks.</summary>
    Full,
}
