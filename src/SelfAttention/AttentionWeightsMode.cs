namespace SelfAttention;

/// <summary>How <see cref="MultiHeadAttention"/> reports attention weights.</summary>
public enum AttentionWeightsMode
{
    /// <summary>One matrix per head: <c>[Batch, Heads, QueryLength, KeyLength]</c>.</summary>
    PerHead = 0,

    /// <summary>
    /// The mean over heads: <c>[Batch, QueryLength, KeyLength]</c>, as PyTorch's <c>nn.MultiheadAttention</c> returns by
    /// default (<c>average_attn_weights=True</c>).
    /// </summary>
    AverageOverHeads = 1,
}
