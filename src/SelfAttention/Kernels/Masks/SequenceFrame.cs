namespace SelfAttention.Kernels.Masks;

/// <summary>
/// The query and key lengths of each sequence of a call: the shape's lengths, or per-sequence lengths read from pinned
/// <c>[Batch]</c> arrays (null: the shape's length for every sequence). Masks that depend on the lengths (causal and
/// window alignment, padding) keep one and read it in <see cref="IAttentionMask{TSelf}.ForHead"/>, once per head.
/// </summary>
internal readonly unsafe struct SequenceFrame
{
    private readonly int* _queryLengths;
    private readonly int* _keyLengths;
    private readonly int _queryLength;
    private readonly int _keyLength;

    public SequenceFrame(int queryLength, int keyLength, int* queryLengths = null, int* keyLengths = null)
    {
        _queryLength = queryLength;
        _keyLength = keyLength;
        _queryLengths = queryLengths;
        _keyLengths = keyLengths;
    }

    /// <summary>Whether some sequence may have lengths of its own (otherwise every one has the shape's).</summary>
    public bool IsRagged => _queryLengths != null || _keyLengths != null;

    /// <summary>Sequence <paramref name="batch"/>'s query rows.</summary>
    public int QueryLength(int batch) => _queryLengths == null ? _queryLength : _queryLengths[batch];

    /// <summary>Sequence <paramref name="batch"/>'s keys.</summary>
    public int KeyLength(int batch) => _keyLengths == null ? _keyLength : _keyLengths[batch];

    /// <summary>
    /// Where query row i of sequence <paramref name="batch"/> sits among its keys, <c>i + offset</c>: bottom-right
    /// <c>keyLength − queryLength</c>, top-left 0.
    /// </summary>
    public long Offset(int batch, CausalAlignment alignment) =>
        alignment == CausalAlignment.TopLeft ? 0 : (long)KeyLength(batch) - QueryLength(batch);
}
