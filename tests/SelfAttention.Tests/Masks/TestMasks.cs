using SelfAttention.Kernels.Masks;

namespace SelfAttention.Tests.Masks;

/// <summary>
/// A sliding window as FlashAttention defines it (bottom-right aligned): row i sees key j when
/// <c>i + offset − left ≤ j ≤ i + offset + right</c>, <c>offset = keyLength − queryLength</c>. Not a public option yet:
/// it exercises ranges that do not start at key 0 and tiles that are empty on the left.
/// </summary>
internal readonly struct WindowTestMask : IAttentionMask<WindowTestMask>
{
    private readonly long _offset;
    private readonly int _left, _right, _keyLength;

    public WindowTestMask(int queryLength, int keyLength, int left, int right)
    {
        _offset = (long)keyLength - queryLength;
        _left = left;
        _right = right;
        _keyLength = keyLength;
    }

    /// <summary>The rule, written independently of the struct's members: the oracle for the tests.</summary>
    public static bool Rule(int queryLength, int keyLength, int left, int right, int i, int j) =>
        j >= (long)i + keyLength - queryLength - left && j <= (long)i + keyLength - queryLength + right;

    public static bool HidesNothing => false;

    public static bool IsRange => true;

    public static bool StartsAtZero => false;

    public WindowTestMask ForHead(int batch, int head) => this;

    public bool IsVisible(int i, int j) => j >= i + _offset - _left && j <= i + _offset + _right;

    public KeyRange Keys(int i)
    {
        int start = (int)Math.Clamp(i + _offset - _left, 0, _keyLength);
        return new KeyRange(start, (int)Math.Clamp(i + _offset + _right + 1, start, _keyLength));
    }

    public TileVisibility Classify(int i0, int rows, int j0, int keys)
    {
        // Both ends of the window grow with i: the last row's start and the first row's end bound a full tile.
        long last = (long)i0 + rows - 1;
        if (last + _offset - _left <= j0 && i0 + _offset + _right >= (long)j0 + keys - 1)
        {
            return TileVisibility.Full;
        }

        return last + _offset + _right < j0 || i0 + _offset - _left > (long)j0 + keys - 1 ? TileVisibility.Empty : TileVisibility.Partial;
    }

    public static bool ModifiesScores => false;

    public double ModifyScore(double score, int i, int j) => score;

    public unsafe void ModifyTile<TV, TOps>(float* st, int bq, int i0, int rows, int j0, int keyCount)
        where TV : struct where TOps : struct, SelfAttention.Kernels.IFloatVector<TV>
    {
    }

    public unsafe void ModifyRow<TV, TOps>(float* s, int i, int j0, int count)
        where TV : struct where TOps : struct, SelfAttention.Kernels.IFloatVector<TV>
    {
    }
}


/// <summary>
/// A mask that is not a range: row i sees nothing when <c>i % 5 == 2</c>, otherwise key j when <c>(i + 2j) % 3 ≠ 0</c>.
/// It answers Partial for every tile (allowed: only slower) and an empty range for the blind rows.
/// </summary>
internal readonly struct StripeTestMask : IAttentionMask<StripeTestMask>
{
    private readonly int _keyLength;

    public StripeTestMask(int keyLength) => _keyLength = keyLength;

    public static bool Rule(int i, int j) => i % 5 != 2 && (i + 2 * j) % 3 != 0;

    public static bool HidesNothing => false;

    public static bool IsRange => false;

    public static bool StartsAtZero => true;

    public StripeTestMask ForHead(int batch, int head) => this;

    public bool IsVisible(int i, int j) => (i + 2 * j) % 3 != 0;

    public KeyRange Keys(int i) => i % 5 == 2 ? default : new KeyRange(0, _keyLength);

    public TileVisibility Classify(int i0, int rows, int j0, int keys) => TileVisibility.Partial;

    public static bool ModifiesScores => false;

    public double ModifyScore(double score, int i, int j) => score;

    public unsafe void ModifyTile<TV, TOps>(float* st, int bq, int i0, int rows, int j0, int keyCount)
        where TV : struct where TOps : struct, SelfAttention.Kernels.IFloatVector<TV>
    {
    }

    public unsafe void ModifyRow<TV, TOps>(float* s, int i, int j0, int count)
        where TV : struct where TOps : struct, SelfAttention.Kernels.IFloatVector<TV>
    {
    }
}

