using System.Runtime.CompilerServices;

namespace SelfAttention.Kernels.Masks;

/// <summary>
/// A boolean mask (PyTorch's bool <c>attn_mask</c>): <c>true</c> (any non-zero byte) means the row may attend to the key.
/// Applied as the additive mask it equals, <c>false → −∞</c>, without a branch per element (a hidden score becomes
/// <c>s + (−∞)</c>), so a mask of any pattern costs the same and the tiled kernel keeps its full-tile loops; a row that
/// sees nothing ends with l = 0 and is written as zeros, through the exact row. Element (b, h, i, j) is at
/// <see cref="DenseMaskLayout"/>. Softmax only: the plain sum has no −∞ (validation refuses the combination).
/// </summary>
internal readonly unsafe struct BooleanMask : IAttentionMask<BooleanMask>
{
    private readonly byte* _mask;
    private readonly byte* _head;
    private readonly DenseMaskLayout _layout;
    private readonly int _keyLength;

    public BooleanMask(byte* mask, DenseMaskLayout layout, int keyLength)
    {
        _mask = mask;
        _head = mask;
        _layout = layout;
        _keyLength = keyLength;
    }

    private BooleanMask(byte* mask, byte* head, DenseMaskLayout layout, int keyLength)
    {
        _mask = mask;
        _head = head;
        _layout = layout;
        _keyLength = keyLength;
    }

    public static bool HidesNothing => true;

    public static bool IsRange => true;

    public static bool StartsAtZero => true;

    public static bool ModifiesScores => true;

    public BooleanMask ForHead(int batch, int head) => new(_mask, _mask + _layout.Head(batch, head), _layout, _keyLength);

    public bool IsVisible(int i, int j) => true;

    public KeyRange Keys(int i) => new(0, _keyLength);

    public TileVisibility Classify(int i0, int rows, int j0, int keys) => TileVisibility.Full;

    public double ModifyScore(double score, int i, int j) =>
        _head[i * _layout.QueryStride + j * _layout.KeyStride] != 0 ? score : double.NegativeInfinity;

    /// <summary>0 for a non-zero byte, −∞ for zero, by masking the bits of −∞ (0xFF800000) with 0 or all ones.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Bias(byte allowed) => BitConverter.Int32BitsToSingle(unchecked((int)0xFF800000) & -(allowed == 0 ? 1 : 0));

    public void ModifyTile<TV, TOps>(float* st, int bq, int i0, int rows, int j0, int keyCount)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        nint keyStride = _layout.KeyStride;
        for (int r = 0; r < rows; r++)
        {
            byte* m = _head + (i0 + r) * _layout.QueryStride + j0 * keyStride;
            float* s = st + r;
            for (int j = 0; j < keyCount; j++, s += bq)
            {
                *s += Bias(m[j * keyStride]);
            }
        }
    }

    public void ModifyRow<TV, TOps>(float* s, int i, int j0, int count)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        byte* m = _head + i * _layout.QueryStride + j0 * _layout.KeyStride;
        for (int j = 0; j < count; j++)
        {
            s[j] += Bias(m[j * _layout.KeyStride]);
        }
    }
}
