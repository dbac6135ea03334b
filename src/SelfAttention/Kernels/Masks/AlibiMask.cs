using System.Runtime.CompilerServices;

namespace SelfAttention.Kernels.Masks;

/// <summary>
/// ALiBi (Press et al., 2022; BLOOM, MPT), as FlashAttention defines it: head h adds
/// <c>−slope_h·|i + keyLength − queryLength − j|</c> to the scaled score of row i and key j, so the bias is 0 on the
/// bottom-right diagonal and falls linearly away from it on both sides. The slopes are <c>[Heads]</c> pinned floats;
/// with per-sequence lengths the lengths are the sequence's own (bound in <see cref="ForHead"/> with the slope). A
/// modifier only: it hides nothing. The distance is formed in float, exact below 2²⁴ keys.
/// </summary>
internal readonly unsafe struct AlibiMask : IAttentionMask<AlibiMask>
{
    private readonly float* _slopes;
    private readonly float _slope;
    private readonly long _offset;
    private readonly int _keyLength;
    private readonly SequenceFrame _frame;

    private AlibiMask(float* slopes, float slope, long offset, int keyLength, SequenceFrame frame)
    {
        _slopes = slopes;
        _slope = slope;
        _offset = offset;
        _keyLength = keyLength;
        _frame = frame;
    }

    /// <summary>ALiBi with <paramref name="slopes"/> (<c>[Heads]</c>), per sequence of <paramref name="frame"/> (head 0 of sequence 0 until bound).</summary>
    public static AlibiMask Create(float* slopes, SequenceFrame frame) =>
        new(slopes, slopes[0], frame.Offset(0, CausalAlignment.BottomRight), frame.KeyLength(0), frame);

    public static bool HidesNothing => true;

    public static bool IsRange => true;

    public static bool StartsAtZero => true;

    public static bool ModifiesScores => true;

    public AlibiMask ForHead(int batch, int head) =>
        new(_slopes, _slopes[head], _frame.Offset(batch, CausalAlignment.BottomRight), _frame.KeyLength(batch), _frame);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool IsVisible(int i, int j) => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public KeyRange Keys(int i) => new(0, _keyLength);

    public TileVisibility Classify(int i0, int rows, int j0, int keys) => TileVisibility.Full;

    public double ModifyScore(double score, int i, int j) => score - (double)_slope * Math.Abs((double)i + _offset - j);

    public void ModifyTile<TV, TOps>(float* st, int bq, int i0, int rows, int j0, int keyCount)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        // Lane r of key j: distance i0 + r + offset − (j0 + j). Per vector of rows the distances start at the lanes'
        // values for key j0 and fall by one per key: integers, exact in float below 2²⁴, so the same values as forming
        // each from scratch, for a subtraction per key. Distances are finite: the native max is |d|.
        int w = TOps.Count;
        TV minusSlope = TOps.Create(-_slope), one = TOps.Create(1f), lanes = TOps.LaneIndices;
        float first = (float)(i0 + _offset - j0);
        for (int t = 0; t < bq; t += w)
        {
            TV d = TOps.Add(TOps.Create(first + t), lanes);
            float* s = st + t;
            for (int j = 0; j < keyCount; j++, s += bq)
            {
                TV distance = TOps.MaxNative(d, TOps.Subtract(TOps.Zero, d));
                TOps.Store(TOps.MultiplyAdd(distance, minusSlope, TOps.Load(ref s[0], 0)), ref s[0], 0);
                d = TOps.Subtract(d, one);
            }
        }
    }

    public void ModifyRow<TV, TOps>(float* s, int i, int j0, int count)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        // Lane l of keys j..: distance (i + offset − j0 − j) − l.
        int w = TOps.Count, j = 0;
        TV minusSlope = TOps.Create(-_slope), lanes = TOps.LaneIndices;
        float first = (float)(i + _offset - j0);
        for (; j + w <= count; j += w)
        {
            TV d = TOps.Subtract(TOps.Create(first - j), lanes);
            TV distance = TOps.MaxNative(d, TOps.Subtract(TOps.Zero, d));
            TOps.Store(TOps.MultiplyAdd(distance, minusSlope, TOps.Load(ref s[0], (nuint)j)), ref s[0], (nuint)j);
        }

        for (; j < count; j++)
        {
            s[j] = ScalarOps.MultiplyAdd(MathF.Abs(first - j), -_slope, s[j]);
        }
    }
}
