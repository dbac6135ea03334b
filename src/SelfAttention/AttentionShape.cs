namespace SelfAttention;

/// <summary>
/// The shape of a multi-head attention call over flat BSNH buffers (row-major, float32):
/// query <c>[Batch, QueryLength, Heads·HeadDim]</c>, key <c>[Batch, KeyLength, KvHeads·HeadDim]</c>,
/// value <c>[Batch, KeyLength, KvHeads·ValueDim]</c>, output <c>[Batch, QueryLength, Heads·ValueDim]</c>.
/// </summary>
/// <param name="Batch">Number of independent sequences; at least 0.</param>
/// <param name="QueryLength">Query rows per sequence; at least 0.</param>
/// <param name="KeyLength">Key and value rows per sequence; at least 0.</param>
/// <param name="Heads">Number of query heads; at least 1.</param>
/// <param name="HeadDim">Width of one query or key head; at least 1.</param>
public readonly record struct AttentionShape(int Batch, int QueryLength, int KeyLength, int Heads, int HeadDim)
{
    /// <summary>
    /// Number of key/value heads; defaults to <see cref="Heads"/>. <c>Heads % KvHeads</c> must be 0: query head
    /// <c>h</c> reads key/value head <c>h / (Heads / KvHeads)</c> (grouped-query attention; 1 is multi-query attention).
    /// The default is taken when the shape is constructed: a <c>with</c> that changes <see cref="Heads"/> keeps the old value.
    /// </summary>
    public int KvHeads { get; init; } = Heads;

    /// <summary>Width of one value head and so of one output head; defaults to <see cref="HeadDim"/>.</summary>
    public int ValueDim { get; init; } = HeadDim;
}
