using System.Runtime.CompilerServices;

namespace SelfAttention.Kernels.Masks;

/// <summary>
/// A sliding window (<see cref="AttentionWindow"/>, FlashAttention's <c>window_size</c>): query row i, at key position
/// <c>p = i + Offset</c> (Offset as in <see cref="CausalMask"/>: bottom-right <c>KeyLength − QueryLength</c>, top-left 0),
/// sees key j when <c>p − Left ≤ j ≤ p + Right</c>, a side of −1 being unbounded. A band of keys per row, so a range:
/// the tiled and decode kernels visit only the key blocks inside it and skip the tiles outside, and time follows the
/// window's width. Per-sequence lengths bind in <see cref="ForHead"/>, as for causal.
/// </summary>
internal readonly struct WindowMask : IAttentionMask<WindowMask>
{
    private readonly long _offset;
    private readonly long _left;
    private readonly long _right;
    private readonly int _keyLength;
    private readonly CausalAlignment _alignment;
    private readonly SequenceFrame _frame;

    private WindowMask(long offset, long left, long right, int keyLength, CausalAlignment alignment, SequenceFrame frame)
    {
        _offset = offset;
        _left = left;
        _right = right;
        _keyLength = keyLength;
        _alignment = alignment;
        _frame = frame;
    }

    /// <summary>The window <paramref name="window"/> (sides ≥ −1) with <paramref name="alignment"/>, per sequence of <paramref name="frame"/>.</summary>
    public static WindowMask Create(AttentionWindow window, CausalAlignment alignment, SequenceFrame frame) =>
        new(frame.Offset(0, alignment), window.Left, window.Right, frame.KeyLength(0), alignment, frame);

    public static bool HidesNothing => false;

    public static bool IsRange => true;

    public static bool StartsAtZero => false;

    public WindowMask ForHead(int batch, int head) =>
        _frame.IsRagged ? new(_frame.Offset(batch, _alignment), _left, _right, _frame.KeyLength(batch), _alignment, _frame) : this;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool IsVisible(int i, int j) =>
        j < _keyLength && (_left < 0 || j >= i + _offset - _left) && (_right < 0 || j <= i + _offset + _right);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public KeyRange Keys(int i)
    {
        int start = _left < 0 ? 0 : (int)Math.Clamp(i + _offset - _left, 0, _keyLength);
        int end = _right < 0 ? _keyLength : (int)Math.Clamp(i + _offset + _right + 1, 0, _keyLength);
        return new KeyRange(start, Math.Max(start, end));
    }

    public TileVisibility Classify(int i0, int rows, int j0, int keys)
    {
        // Over the tile, j − i runs through [j0 − lastRow, lastKey − i0]; row i sees j when j − i ∈ [Offset − Left, Offset + Right].
        // Keys past the bound key length (a sequence's own, when it is shorter than the head) are never visible.
        // The tile's keys below that length are still a rectangle, so the test stays exact.
        long lastRow = (long)i0 + rows - 1, lastKey = (long)j0 + keys - 1, lastSeen = Math.Min(lastKey, _keyLength - 1L);
        if (j0 > lastSeen || (_right >= 0 && j0 - lastRow > _offset + _right) || (_left >= 0 && lastSeen - i0 < _offset - _left))
        {
            return TileVisibility.Empty;
        }

        bool full = lastKey < _keyLength && (_right < 0 || lastKey - i0 <= _offset + _right) && (_left < 0 || j0 - lastRow >= _offset - _left);
        return full ? TileVisibility.Full : TileVisibility.Partial;
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
