using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace SelfAttention.Kernels.Masks;

/// <summary>
/// A boolean mask (PyTorch's bool <c>attn_mask</c>): <c>true</c> (any non-zero byte) means the row may attend to the key.
/// Applied as the additive mask it equals, <c>false → −∞</c>, without a branch per element (a hidden score becomes
/// <c>s + (−∞)</c>), so a mask of any pattern costs the same and the tiled kernel keeps its full-tile loops; a row that
/// sees nothing ends with l = 0 and is written as zeros, through the exact row. Over a tile with contiguous keys the
/// bytes become biases a vector at a time (lanes × lanes blocks, widened, compared and transposed in registers), so a
/// boolean mask costs what an additive one does while reading a quarter of the bytes; a mask several heads or sequences
/// share is read by the tiled kernel from the call's tile-order copy of its biases (<see cref="TransposedMask"/>)
/// instead. Element (b, h, i, j) is at
/// <see cref="DenseMaskLayout"/>. Softmax only: the plain sum has no −∞ (validation refuses the combination).
/// </summary>
internal readonly unsafe struct BooleanMask : IAttentionMask<BooleanMask>
{
    private readonly byte* _mask;
    private readonly byte* _head;
    private readonly DenseMaskLayout _layout;
    private readonly int _keyLength;
    private readonly TileOrderCopy _copy;

    /// <summary>The mask read in place everywhere (no tile-order copy).</summary>
    public BooleanMask(byte* mask, DenseMaskLayout layout, int keyLength)
        : this(mask, layout, keyLength, default)
    {
    }

    /// <summary>The mask, with its copy for the tiled kernel's tiles when the call made one.</summary>
    /// <param name="mask">The mask, element (b, h, i, j) at <paramref name="layout"/>.</param>
    /// <param name="layout">Where each element lives.</param>
    /// <param name="keyLength">Keys per head.</param>
    /// <param name="copy">Its tile-order copy for the tiled kernel (<see cref="TransposedMask.Prepare"/>), or none.</param>
    public BooleanMask(byte* mask, DenseMaskLayout layout, int keyLength, TileOrderCopy copy)
        : this(mask, mask, layout, keyLength, copy)
    {
    }

    private BooleanMask(byte* mask, byte* head, DenseMaskLayout layout, int keyLength, TileOrderCopy copy)
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

    public BooleanMask ForHead(int batch, int head) =>
        new(_mask, _mask + _layout.Head(batch, head), _layout, _keyLength, _copy.ForHead(batch, head));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool IsVisible(int i, int j) => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public KeyRange Keys(int i) => new(0, _keyLength);

    public TileVisibility Classify(int i0, int rows, int j0, int keys) => TileVisibility.Full;

    public double ModifyScore(double score, int i, int j) =>
        _head[i * _layout.QueryStride + j * _layout.KeyStride] != 0 ? score : double.NegativeInfinity;

    /// <summary>0 for a non-zero byte, −∞ for zero, by masking the bits of −∞ (0xFF800000) with 0 or all ones.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Bias(byte allowed) => BitConverter.Int32BitsToSingle(unchecked((int)0xFF800000) & -(allowed == 0 ? 1 : 0));

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
        if (keyStride == 1 && w > 1)
        {
            // As the additive mask: lanes × lanes blocks (rows × contiguous keys), here each row's lanes bytes widened to
            // 0/−∞ biases a vector at a time into a small row-major block, transposed in registers and added to Sᵀ a
            // vector at a time; ragged rows and keys element by element below.
            float* biases = stackalloc float[2 * w * w];
            float* block = biases + w * w;
            for (; r + w <= rows; r += w)
            {
                byte* m = _head + (i0 + r) * _layout.QueryStride + j0;
                int j = 0;
                for (; j + w <= keyCount; j += w)
                {
                    for (int rr = 0; rr < w; rr++)
                    {
                        TOps.Store(Biases<TV>(m + rr * _layout.QueryStride + j), ref biases[0], (nuint)(rr * w));
                    }

                    TOps.Transpose(ref biases[0], (nuint)w, ref block[0], (nuint)w);
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

    /// <summary><c>Sᵀ[j][r] += Bias(mask(i0 + r, j0 + j))</c> for rows [r0, r1) and tile keys [jStart, keyCount).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void AddScalar(float* st, int bq, int i0, int r0, int r1, int j0, int jStart, int keyCount)
    {
        nint keyStride = _layout.KeyStride;
        for (int r = r0; r < r1; r++)
        {
            byte* m = _head + (i0 + r) * _layout.QueryStride + j0 * keyStride;
            float* s = st + r;
            for (int j = jStart; j < keyCount; j++)
            {
                s[j * bq] += Bias(m[j * keyStride]);
            }
        }
    }

    /// <summary>
    /// The biases of TV's lane count of consecutive mask bytes from <paramref name="m"/>: the bytes widened to 32-bit lanes,
    /// compared with 0, and the all-ones lanes (zero bytes) masked to the bits of −∞. A JIT-time choice of width.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Biases<TV>(byte* m)
        where TV : struct
    {
        uint minusInfinity = 0xFF800000;
        if (typeof(TV) == typeof(Vector512<float>))
        {
            Vector256<ushort> halves = Vector256.WidenLower(Vector128.LoadUnsafe(ref *m).ToVector256Unsafe());
            Vector512<uint> lanes = Vector512.WidenLower(halves.ToVector512Unsafe());
            Vector512<float> biases = (Vector512.Equals(lanes, Vector512<uint>.Zero) & Vector512.Create(minusInfinity)).AsSingle();
            return Unsafe.As<Vector512<float>, TV>(ref biases);
        }

        if (typeof(TV) == typeof(Vector256<float>))
        {
            Vector128<ushort> halves = Vector128.WidenLower(Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<ulong>(m)).AsByte());
            Vector256<uint> lanes = Vector256.WidenLower(halves.ToVector256Unsafe());
            Vector256<float> biases = (Vector256.Equals(lanes, Vector256<uint>.Zero) & Vector256.Create(minusInfinity)).AsSingle();
            return Unsafe.As<Vector256<float>, TV>(ref biases);
        }

        if (typeof(TV) == typeof(Vector128<float>))
        {
            Vector128<ushort> halves = Vector128.WidenLower(Vector128.CreateScalarUnsafe(Unsafe.ReadUnaligned<uint>(m)).AsByte());
            Vector128<uint> lanes = Vector128.WidenLower(halves);
            Vector128<float> biases = (Vector128.Equals(lanes, Vector128<uint>.Zero) & Vector128.Create(minusInfinity)).AsSingle();
            return Unsafe.As<Vector128<float>, TV>(ref biases);
        }

        float bias = Bias(*m);
        return Unsafe.As<float, TV>(ref bias);
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
