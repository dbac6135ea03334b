using System.Runtime.CompilerServices;

namespace SelfAttention.Kernels.Masks;

/// <summary>
/// Causal: query row i sees key j when <c>j ≤ i + Offset</c>, a prefix of the keys per row.
/// <list type="bullet">
/// <item>Bottom-right aligned (the library's default, <see cref="CausalAlignment.BottomRight"/>, FlashAttention, KV caches):
/// <c>Offset = KeyLength − QueryLength</c>, so <c>j ≤ i + (KeyLength − QueryLength)</c> and the last query row sees
/// every key.</item>
/// <item>Top-left aligned (PyTorch's <c>is_causal</c>, <see cref="CausalAlignment.TopLeft"/>): <c>Offset = 0</c>, so <c>j ≤ i</c>.</item>
/// </list>
/// The two differ only when the lengths do. A row with <c>i + Offset &lt; 0</c> sees nothing. With per-sequence lengths
/// (a ragged <see cref="SequenceFrame"/>) <see cref="ForHead"/> takes the offset and key length of the head's sequence.
/// </summary>
internal readonly struct CausalMask : IAttentionMask<CausalMask>
{
    private readonly long _offset;
    private readonly int _keyLength;
    private readonly CausalAlignment _alignment;
    private readonly SequenceFrame _frame;

    private CausalMask(long offset, int keyLength, CausalAlignment alignment, SequenceFrame frame)
    {
        _offset = offset;
        _keyLength = keyLength;
        _alignment = alignment;
        _frame = frame;
    }

    /// <summary><c>j ≤ i + (keyLength − queryLength)</c>.</summary>
    public static CausalMask BottomRight(int queryLength, int keyLength) => new((long)keyLength - queryLength, keyLength, CausalAlignment.BottomRight, default);

    /// <summary><c>j ≤ i</c>.</summary>
    public static CausalMask TopLeft(int keyLength) => new(0, keyLength, CausalAlignment.TopLeft, default);

    /// <summary>Causal with <paramref name="alignment"/>, per sequence of <paramref name="frame"/> (sequence 0's lengths until bound).</summary>
    public static CausalMask Create(CausalAlignment alignment, SequenceFrame frame) =>
        new(frame.Offset(0, alignment), frame.KeyLength(0), alignment, frame);

    public static bool HidesNothing => false;

    public static bool IsRange => true;

    public static bool StartsAtZero => true;

    public CausalMask ForHead(int batch, int head) =>
        _frame.IsRagged ? new(_frame.Offset(batch, _alignment), _frame.KeyLength(batch), _alignment, _frame) : this;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool IsVisible(int i, int j) => j <= i + _offset && j < _keyLength;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public KeyRange Keys(int i) => new(0, (int)Math.Clamp(i + _offset + 1, 0, _keyLength));

    public TileVisibility Classify(int i0, int rows, int j0, int keys)
    {
        // The tile's first row sees its last key: full. Its last row does not see its first key: empty. Keys past the
        // bound key length (a sequence's own, shorter than the head) are never visible.
        long lastKey = (long)j0 + keys - 1;
        if (lastKey <= i0 + _offset && lastKey < _keyLength)
        {
            return TileVisibility.Full;
        }

        return j0 > (long)i0 + rows - 1 + _offset || j0 >= _keyLength ? TileVisibility.Empty : TileVisibility.Partial;
    }

    public static bool ModifiesScores => false;

    public double ModifyScore(double score, int i, int j) => score;

    public unsafe void ModifyTile<TV, TOps>(float* st, int bq, int i0, int rows, int j0, int keyCount)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
    }

    public unsafe void ModifyRow<TV, TOps>(float* s, int i, int j0, int count)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
    }
}
