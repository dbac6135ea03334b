using System.Runtime.CompilerServices;

namespace SelfAttention.Kernels.Masks;

/// <summary>
/// An additive mask (PyTorch's float <c>attn_mask</c>): its element is added to the scaled score (after softcap and
/// ALiBi), so −∞ hides a key and a finite value biases it. A modifier: it hides through −∞ scores, which the online
/// softmax weighs 0, so the kernels treat every tile as fully visible (a row whose every key is −∞ ends with l = 0 and is
/// written as zeros, through the exact row). Element (b, h, i, j) is at <see cref="DenseMaskLayout"/>; bound to a head by
/// <see cref="ForHead"/>. Each element is read once per query block that visits its tile: in place, transposed in
/// registers per tile, or, for a mask several heads or sequences share, from the call's tile-order copy
/// (<see cref="TransposedMask"/>), so the transposes are paid once per call rather than once per head.
/// </summary>
internal readonly unsafe struct AdditiveMask : IAttentionMask<AdditiveMask>
{
    private readonly float* _mask;
    private readonly float* _head;
    private readonly DenseMaskLayout _layout;
    private readonly int _keyLength;
    private readonly TileOrderCopy _copy;

    /// <summary>The mask read in place everywhere (no tile-order copy).</summary>
    public AdditiveMask(float* mask, DenseMaskLayout layout, int keyLength)
        : this(mask, layout, keyLength, default)
    {
    }

    /// <summary>The mask, with its copy for the tiled kernel's tiles when the call made one.</summary>
    /// <param name="mask">The mask, element (b, h, i, j) at <paramref name="layout"/>.</param>
    /// <param name="layout">Where each element lives.</param>
    /// <param name="keyLength">Keys per head.</param>
    /// <param name="copy">Its tile-order copy for the tiled kernel (<see cref="TransposedMask.Prepare"/>), or none.</param>
    public AdditiveMask(float* mask, DenseMaskLayout layout, int keyLength, TileOrderCopy copy)
        : this(mask, mask, layout, keyLength, copy)
    {
    }

    private AdditiveMask(float* mask, float* head, DenseMaskLayout layout, int keyLength, TileOrderCopy copy)
    {
        _mask = mask;
        _head = head;
        _layout = layout;
        _keyLength = keyLength;
        _copy = copy;
    }

    public static bool HidesNothing => true;

    public static bool IsRange => true;

    public static bool StartsAtZero => true;

    public static bool ModifiesScores => true;

    public AdditiveMask ForHead(int batch, int head) =>
        new(_mask, _mask + _layout.Head(batch, head), _layout, _keyLength, _copy.ForHead(batch, head));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool IsVisible(int i, int j) => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public KeyRange Keys(int i) => new(0, _keyLength);

    public TileVisibility Classify(int i0, int rows, int j0, int keys) => TileVisibility.Full;

    public double ModifyScore(double score, int i, int j) => score + _head[i * _layout.QueryStride + j * _layout.KeyStride];

    public void ModifyTile<TV, TOps>(float* st, int bq, int i0, int rows, int j0, int keyCount)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        if (_copy.IsPresent)
        {
            _copy.AddTo<TV, TOps>(st, bq, i0, rows, j0, keyCount);
            return;
        }

        nint keyStride = _layout.KeyStride;
        int w = TOps.Count, r = 0;
        if (keyStride == 1 && TOps.Count > 1)
        {
            // Lanes × lanes blocks of the mask (rows × contiguous keys) transposed in registers into a small tile, then
            // added to Sᵀ a vector at a time; ragged rows and keys element by element below.
            float* block = stackalloc float[w * w];
            for (; r + w <= rows; r += w)
            {
                float* m = _head + (i0 + r) * _layout.QueryStride + j0;
                int j = 0;
                for (; j + w <= keyCount; j += w)
                {
                    TOps.Transpose(ref m[j], (nuint)_layout.QueryStride, ref block[0], (nuint)w);
                    for (int jj = 0; jj < w; jj++)
                    {
                        float* s = st + (j + jj) * bq + r;
                        TOps.Store(TOps.Add(TOps.Load(ref s[0], 0), TOps.Load(ref block[0], (nuint)(jj * w))), ref s[0], 0);
                    }
                }

                AddScalar(st, bq, i0, r, r + w, j0, j, keyCount);
            }
        }

        AddScalar(st, bq, i0, r, rows, j0, 0, keyCount);
    }

    /// <summary><c>Sᵀ[j][r] += mask(i0 + r, j0 + j)</c> for rows [r0, r1) and tile keys [jStart, keyCount).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void AddScalar(float* st, int bq, int i0, int r0, int r1, int j0, int jStart, int keyCount)
    {
        for (int r = r0; r < r1; r++)
        {
            float* m = _head + (i0 + r) * _layout.QueryStride + j0 * _layout.KeyStride;
            for (int j = jStart; j < keyCount; j++)
            {
                st[j * bq + r] += m[j * _layout.KeyStride];
            }
        }
    }

    public void ModifyRow<TV, TOps>(float* s, int i, int j0, int count)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        float* m = _head + i * _layout.QueryStride + j0 * _layout.KeyStride;
        int j = 0;
        if (_layout.KeyStride == 1)
        {
            for (; j + TOps.Count <= count; j += TOps.Count)
            {
                TOps.Store(TOps.Add(TOps.Load(ref s[0], (nuint)j), TOps.Load(ref m[0], (nuint)j)), ref s[0], (nuint)j);
            }
        }

        for (; j < count; j++)
        {
            s[j] += m[j * _layout.KeyStride];
        }
    }
}
