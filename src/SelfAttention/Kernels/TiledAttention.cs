using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;

namespace SelfAttention.Kernels;

/// <summary>
/// Register-blocked attention with online softmax (FlashAttention-style: Dao et al., 2022), one query block at a time.
/// <para>
/// Layout choice: a block of <c>Bq = 4·lanes</c> queries lives in the vector lanes. The query block is packed
/// transposed and pre-scaled once (<c>Qt[c][r] = q[r][c]·scale</c>), which is amortised over every key. Then
/// <list type="bullet">
/// <item>scores <c>Sᵀ[j][r]</c> come from a 6-key × 4-vector micro-kernel that broadcasts <c>k[j][c]</c> straight from K's
/// natural layout (24 accumulators, each loaded vector feeds six FMAs), so K is never packed;</item>
/// <item>the online softmax is vertical: the running max, sum and rescale factor of a query are lanes of a vector, so it
/// needs no horizontal reductions, and the score micro-kernel folds each register tile into the new max as it stores it;</item>
/// <item><c>O[r][:] += Σ_j P[r][j]·V[j][:]</c> is a 4-row micro-kernel that broadcasts <c>Pᵀ[j][r]</c> against V rows in
/// their natural layout (or, when those rows are not 64-byte aligned, against an aligned copy of the block that the score
/// kernel makes as it goes), with the rescale by <c>e^(m_old − m_new)</c> folded into loading the accumulator tile.</item>
/// </list>
/// </para>
/// <para>
/// Scratch per work item (floats, 64-byte aligned): <c>Qt [headDim × Bq]</c>, <c>Sᵀ [KeyBlock × Bq]</c>,
/// <c>O [Bq × valueDim]</c>, <c>m, l, alpha, m' [Bq]</c> each, then an aligned copy of the V block
/// <c>[KeyBlock × valueDim]</c> when V's rows are not 64-byte aligned: O(tile), never O(queryLength·keyLength).
/// </para>
/// Causal: key blocks past the last key any row of the query block can see are never visited; only blocks that cross
/// the diagonal are masked. A row that sees no key keeps m = −∞ and l = 0 and is written as zeros.
/// </summary>
internal static unsafe class TiledAttention
{
    /// <summary>Keys per block: Sᵀ (KeyBlock × Bq) and the V block stay in L1/L2 while every row tile uses them.</summary>
    public const int KeyBlock = 128;

    private const int KeysPerTile = 6;

    /// <summary>
    /// True where the ISA has 16 vector registers (x64 without AVX-512) rather than 32 (AVX-512, Arm64). The 24-accumulator
    /// score tile and the 16-accumulator P·V tile would spill there (measured: 55.9 GFLOP/s at (12, 512, 512, 64) with
    /// 256-bit vectors), so they are taken half as wide. A JIT-time constant.
    /// </summary>
    private static bool FewRegisters => !Vector512.IsHardwareAccelerated && !AdvSimd.Arm64.IsSupported;
    private const int RowsPerTile = 4;
    private const int VectorsPerTile = 4;

    /// <summary>Query rows per work item at this width.</summary>
    public static int QueryBlock<TV, TOps>() where TV : struct where TOps : struct, IFloatVector<TV> => VectorsPerTile * TOps.Count;

    /// <summary>Scratch floats one work item needs.</summary>
    public static int ScratchLength(int queryBlock, int headDim, int valueDim) =>
        queryBlock * (headDim + KeyBlock + valueDim + 4) + KeyBlock * valueDim;

    /// <summary>Computes query rows <c>[q0, q0 + Bq)</c> (clipped to the query length) of head (batch, head).</summary>
    public static void RunBlock<TV, TOps>(in AttentionProblem p, int batch, int head, int q0, Span<float> scratchSpan)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        int w = TOps.Count, bq = VectorsPerTile * w;
        int headDim = p.HeadDim, valueDim = p.ValueDim, queryLength = p.QueryLength, keyLength = p.KeyLength;
        int rows = Math.Min(bq, queryLength - q0);
        int tileRows = (rows + RowsPerTile - 1) / RowsPerTile * RowsPerTile;

        fixed (float* scratch = scratchSpan)
        {
            float* qt = scratch;                        // [headDim][bq]
            float* st = qt + headDim * bq;              // [KeyBlock][bq]
            float* acc = st + KeyBlock * bq;            // [bq][valueDim]
            float* m = acc + bq * valueDim;             // [bq]
            float* l = m + bq;                          // [bq]
            float* alpha = l + bq;                      // [bq]
            float* mNext = alpha + bq;                  // [bq]
            float* vb = mNext + bq;                     // [KeyBlock][valueDim]

            float* q = p.QueryHead(batch, head) + q0 * p.QueryRowStride;
            float* k = p.KeyHead(batch, head);
            float* v = p.ValueHead(batch, head);
            float* o = p.OutputHead(batch, head) + q0 * p.OutputRowStride;

            // Every row tile of P·V sweeps the whole V block with full-vector loads. Rows that are not 64-byte aligned
            // (any managed array, in general) split each load across two cache lines, so such a block is copied into
            // aligned scratch first, by the score kernel, whose FMA-bound loop leaves load and store slots to spare:
            // measured +8 % at (8, 2048, 2048, 64) with unaligned inputs (+5 % more at (12, 512, 512, 64) for doing
            // the copy inside the score kernel rather than as a pass of its own); no change when aligned.
            bool packValues = ((nint)v & 63) != 0 || (p.ValueRowStride & 15) != 0;

            // Qt[c][r] = q[r][c]·scale; lanes past the last row are zero so they stay finite and are simply not written out.
            // Each query row is read once per call, strided (heads interleaved), so it comes from far away; the rows of
            // the next query block (the next work item, or a harmless miss) are prefetched meanwhile.
            float scale = p.Scale;
            nint queryStride = p.QueryRowStride;
            for (int r = 0; r < rows; r++)
            {
                float* qRow = q + r * queryStride;
                Prefetch.Floats(qRow + bq * queryStride, headDim);
                float* column = qt + r;
                for (int c = 0; c < headDim; c++, column += bq)
                {
                    *column = qRow[c] * scale;
                }
            }

            for (int r = rows; r < bq; r++)
            {
                float* column = qt + r;
                for (int c = 0; c < headDim; c++, column += bq)
                {
                    *column = 0f;
                }
            }

            new Span<float>(acc, tileRows * valueDim).Clear();
            new Span<float>(m, bq).Fill(float.NegativeInfinity);
            new Span<float>(l, bq).Clear();

            // Causal, bottom-right: row i sees keys j ≤ i + offset. No row of this block sees past lastRow + offset.
            int offset = keyLength - queryLength;
            int keyEnd = p.IsCausal ? Views.VisibleKeys(q0 + rows - 1, queryLength, keyLength) : keyLength;
            for (int j0 = 0; j0 < keyEnd; j0 += KeyBlock)
            {
                int bk = Math.Min(KeyBlock, keyEnd - j0);

                // The block crosses the diagonal when its last key is hidden from the block's first row. Then row r
                // sees the block's keys jj ≤ r − firstHidden; otherwise every row sees all of them. The running max
                // takes the block's scores as they are computed, or after masking on the diagonal.
                bool diagonal = p.IsCausal && j0 + bk - 1 > q0 + offset;
                int firstHidden = diagonal ? j0 - q0 - offset : int.MinValue / 2;
                new Span<float>(m, bq).CopyTo(new Span<float>(mNext, bq));
                float* vBlock = v + j0 * p.ValueRowStride;
                nint valueStride = p.ValueRowStride;
                var copy = new RowCopy(vBlock, valueStride, valueDim, packValues ? vb : null);
                Scores<TV, TOps>(qt, k + j0 * p.KeyRowStride, p.KeyRowStride, bk, headDim, st, diagonal ? null : mNext, copy);
                if (packValues)
                {
                    vBlock = vb;
                    valueStride = valueDim;
                }

                if (diagonal)
                {
                    MaskDiagonal<TV, TOps>(st, bk, firstHidden, mNext);
                }

                OnlineSoftmax<TV, TOps>(st, bk, m, mNext, l, alpha);

                AccumulateValues<TV, TOps>(st, bk, firstHidden, vBlock, valueStride, valueDim, alpha, acc, tileRows);
            }

            // o[r] = acc[r] / l[r]; a row that saw nothing (l = 0) is zero.
            for (int r = 0; r < rows; r++)
            {
                float inverse = l[r] == 0f ? 0f : 1f / l[r];
                float* src = acc + r * valueDim;
                float* dst = o + r * p.OutputRowStride;
                int c = 0;
                TV factor = TOps.Create(inverse);
                for (; c + w <= valueDim; c += w)
                {
                    TOps.Store(TOps.Multiply(TOps.Load(ref src[0], (nuint)c), factor), ref dst[0], (nuint)c);
                }

                for (; c < valueDim; c++)
                {
                    dst[c] = src[c] * inverse;
                }
            }
        }
    }

    /// <summary>
    /// Sᵀ[j][r] = Σ_c k[j][c]·Qt[c][r] for j &lt; keyCount, and <c>rowMax[r] = max(rowMax[r], max_j Sᵀ[j][r])</c> unless
    /// rowMax is null: folding each register tile into the max saves a pass over Sᵀ. Copies rows j &lt; keyCount of
    /// <paramref name="copy"/> along the way, six per tile. qt: [headDim][4·lanes]; k: [keyCount, headDim] with row
    /// stride <paramref name="keyStride"/>; st: [keyCount][4·lanes]; rowMax: [4·lanes].
    /// </summary>
    private static void Scores<TV, TOps>(float* qt, float* k, nint keyStride, int keyCount, int headDim, float* st, float* rowMax, RowCopy copy)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        int w = TOps.Count, bq = VectorsPerTile * w;
        if (FewRegisters)
        {
            copy.Rows<TV, TOps>(0, keyCount);
            ScoresHalfWidth<TV, TOps>(qt, k, keyStride, keyCount, headDim, st, rowMax);
            ScoresHalfWidth<TV, TOps>(qt + 2 * w, k, keyStride, keyCount, headDim, st + 2 * w, rowMax == null ? null : rowMax + 2 * w);
            return;
        }

        int j = 0;
        for (; j + KeysPerTile <= keyCount; j += KeysPerTile)
        {
            float* k0 = k + j * keyStride, k1 = k0 + keyStride, k2 = k1 + keyStride, k3 = k2 + keyStride, k4 = k3 + keyStride, k5 = k4 + keyStride;
            copy.Rows<TV, TOps>(j, KeysPerTile);
            TV a00 = TOps.Zero, a01 = TOps.Zero, a02 = TOps.Zero, a03 = TOps.Zero;
            TV a10 = TOps.Zero, a11 = TOps.Zero, a12 = TOps.Zero, a13 = TOps.Zero;
            TV a20 = TOps.Zero, a21 = TOps.Zero, a22 = TOps.Zero, a23 = TOps.Zero;
            TV a30 = TOps.Zero, a31 = TOps.Zero, a32 = TOps.Zero, a33 = TOps.Zero;
            TV a40 = TOps.Zero, a41 = TOps.Zero, a42 = TOps.Zero, a43 = TOps.Zero;
            TV a50 = TOps.Zero, a51 = TOps.Zero, a52 = TOps.Zero, a53 = TOps.Zero;
            float* qc = qt;
            for (int c = 0; c < headDim; c++, qc += bq)
            {
                TV q0 = TOps.Load(ref qc[0], 0), q1 = TOps.Load(ref qc[0], (nuint)w), q2 = TOps.Load(ref qc[0], (nuint)(2 * w)), q3 = TOps.Load(ref qc[0], (nuint)(3 * w));
                TV b = TOps.Create(k0[c]);
                a00 = TOps.MultiplyAdd(q0, b, a00); a01 = TOps.MultiplyAdd(q1, b, a01); a02 = TOps.MultiplyAdd(q2, b, a02); a03 = TOps.MultiplyAdd(q3, b, a03);
                b = TOps.Create(k1[c]);
                a10 = TOps.MultiplyAdd(q0, b, a10); a11 = TOps.MultiplyAdd(q1, b, a11); a12 = TOps.MultiplyAdd(q2, b, a12); a13 = TOps.MultiplyAdd(q3, b, a13);
                b = TOps.Create(k2[c]);
                a20 = TOps.MultiplyAdd(q0, b, a20); a21 = TOps.MultiplyAdd(q1, b, a21); a22 = TOps.MultiplyAdd(q2, b, a22); a23 = TOps.MultiplyAdd(q3, b, a23);
                b = TOps.Create(k3[c]);
                a30 = TOps.MultiplyAdd(q0, b, a30); a31 = TOps.MultiplyAdd(q1, b, a31); a32 = TOps.MultiplyAdd(q2, b, a32); a33 = TOps.MultiplyAdd(q3, b, a33);
                b = TOps.Create(k4[c]);
                a40 = TOps.MultiplyAdd(q0, b, a40); a41 = TOps.MultiplyAdd(q1, b, a41); a42 = TOps.MultiplyAdd(q2, b, a42); a43 = TOps.MultiplyAdd(q3, b, a43);
                b = TOps.Create(k5[c]);
                a50 = TOps.MultiplyAdd(q0, b, a50); a51 = TOps.MultiplyAdd(q1, b, a51); a52 = TOps.MultiplyAdd(q2, b, a52); a53 = TOps.MultiplyAdd(q3, b, a53);
            }

            float* s = st + j * bq;
            Store4<TV, TOps>(s, w, a00, a01, a02, a03);
            Store4<TV, TOps>(s + bq, w, a10, a11, a12, a13);
            Store4<TV, TOps>(s + 2 * bq, w, a20, a21, a22, a23);
            Store4<TV, TOps>(s + 3 * bq, w, a30, a31, a32, a33);
            Store4<TV, TOps>(s + 4 * bq, w, a40, a41, a42, a43);
            Store4<TV, TOps>(s + 5 * bq, w, a50, a51, a52, a53);
            if (rowMax != null)
            {
                FoldMax<TV, TOps>(rowMax, 0, a00, a10, a20, a30, a40, a50);
                FoldMax<TV, TOps>(rowMax, (nuint)w, a01, a11, a21, a31, a41, a51);
                FoldMax<TV, TOps>(rowMax, (nuint)(2 * w), a02, a12, a22, a32, a42, a52);
                FoldMax<TV, TOps>(rowMax, (nuint)(3 * w), a03, a13, a23, a33, a43, a53);
            }
        }

        copy.Rows<TV, TOps>(j, keyCount - j);
        for (; j < keyCount; j++)
        {
            float* kj = k + j * keyStride;
            TV a0 = TOps.Zero, a1 = TOps.Zero, a2 = TOps.Zero, a3 = TOps.Zero;
            float* qc = qt;
            for (int c = 0; c < headDim; c++, qc += bq)
            {
                TV b = TOps.Create(kj[c]);
                a0 = TOps.MultiplyAdd(TOps.Load(ref qc[0], 0), b, a0);
                a1 = TOps.MultiplyAdd(TOps.Load(ref qc[0], (nuint)w), b, a1);
                a2 = TOps.MultiplyAdd(TOps.Load(ref qc[0], (nuint)(2 * w)), b, a2);
                a3 = TOps.MultiplyAdd(TOps.Load(ref qc[0], (nuint)(3 * w)), b, a3);
            }

            Store4<TV, TOps>(st + j * bq, w, a0, a1, a2, a3);
            if (rowMax != null)
            {
                FoldMax<TV, TOps>(rowMax, 0, a0);
                FoldMax<TV, TOps>(rowMax, (nuint)w, a1);
                FoldMax<TV, TOps>(rowMax, (nuint)(2 * w), a2);
                FoldMax<TV, TOps>(rowMax, (nuint)(3 * w), a3);
            }
        }
    }

    /// <summary>
    /// <see cref="Scores{TV, TOps}"/> for half of the query lanes (two vectors) with 12 accumulators, for 16-register ISAs.
    /// qt and st point at the half's first lane; rows keep their full stride of 4·lanes.
    /// </summary>
    private static void ScoresHalfWidth<TV, TOps>(float* qt, float* k, nint keyStride, int keyCount, int headDim, float* st, float* rowMax)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        int w = TOps.Count, bq = VectorsPerTile * w;
        int j = 0;
        for (; j + KeysPerTile <= keyCount; j += KeysPerTile)
        {
            float* k0 = k + j * keyStride, k1 = k0 + keyStride, k2 = k1 + keyStride, k3 = k2 + keyStride, k4 = k3 + keyStride, k5 = k4 + keyStride;
            TV a00 = TOps.Zero, a01 = TOps.Zero, a10 = TOps.Zero, a11 = TOps.Zero, a20 = TOps.Zero, a21 = TOps.Zero;
            TV a30 = TOps.Zero, a31 = TOps.Zero, a40 = TOps.Zero, a41 = TOps.Zero, a50 = TOps.Zero, a51 = TOps.Zero;
            float* qc = qt;
            for (int c = 0; c < headDim; c++, qc += bq)
            {
                TV q0 = TOps.Load(ref qc[0], 0), q1 = TOps.Load(ref qc[0], (nuint)w);
                TV b = TOps.Create(k0[c]);
                a00 = TOps.MultiplyAdd(q0, b, a00); a01 = TOps.MultiplyAdd(q1, b, a01);
                b = TOps.Create(k1[c]);
                a10 = TOps.MultiplyAdd(q0, b, a10); a11 = TOps.MultiplyAdd(q1, b, a11);
                b = TOps.Create(k2[c]);
                a20 = TOps.MultiplyAdd(q0, b, a20); a21 = TOps.MultiplyAdd(q1, b, a21);
                b = TOps.Create(k3[c]);
                a30 = TOps.MultiplyAdd(q0, b, a30); a31 = TOps.MultiplyAdd(q1, b, a31);
                b = TOps.Create(k4[c]);
                a40 = TOps.MultiplyAdd(q0, b, a40); a41 = TOps.MultiplyAdd(q1, b, a41);
                b = TOps.Create(k5[c]);
                a50 = TOps.MultiplyAdd(q0, b, a50); a51 = TOps.MultiplyAdd(q1, b, a51);
            }

            float* s = st + j * bq;
            TOps.Store(a00, ref s[0], 0); TOps.Store(a01, ref s[0], (nuint)w);
            TOps.Store(a10, ref s[bq], 0); TOps.Store(a11, ref s[bq], (nuint)w);
            TOps.Store(a20, ref s[2 * bq], 0); TOps.Store(a21, ref s[2 * bq], (nuint)w);
            TOps.Store(a30, ref s[3 * bq], 0); TOps.Store(a31, ref s[3 * bq], (nuint)w);
            TOps.Store(a40, ref s[4 * bq], 0); TOps.Store(a41, ref s[4 * bq], (nuint)w);
            TOps.Store(a50, ref s[5 * bq], 0); TOps.Store(a51, ref s[5 * bq], (nuint)w);
            if (rowMax != null)
            {
                FoldMax<TV, TOps>(rowMax, 0, a00, a10, a20, a30, a40, a50);
                FoldMax<TV, TOps>(rowMax, (nuint)w, a01, a11, a21, a31, a41, a51);
            }
        }

        for (; j < keyCount; j++)
        {
            float* kj = k + j * keyStride;
            TV a0 = TOps.Zero, a1 = TOps.Zero;
            float* qc = qt;
            for (int c = 0; c < headDim; c++, qc += bq)
            {
                TV b = TOps.Create(kj[c]);
                a0 = TOps.MultiplyAdd(TOps.Load(ref qc[0], 0), b, a0);
                a1 = TOps.MultiplyAdd(TOps.Load(ref qc[0], (nuint)w), b, a1);
            }

            TOps.Store(a0, ref st[j * bq], 0);
            TOps.Store(a1, ref st[j * bq], (nuint)w);
            if (rowMax != null)
            {
                FoldMax<TV, TOps>(rowMax, 0, a0);
                FoldMax<TV, TOps>(rowMax, (nuint)w, a1);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store4<TV, TOps>(float* destination, int w, TV a0, TV a1, TV a2, TV a3)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        TOps.Store(a0, ref destination[0], 0);
        TOps.Store(a1, ref destination[0], (nuint)w);
        TOps.Store(a2, ref destination[0], (nuint)(2 * w));
        TOps.Store(a3, ref destination[0], (nuint)(3 * w));
    }

    /// <summary>
    /// Rows to copy into dense scratch alongside another kernel's arithmetic, whose spare load and store slots hide
    /// the copy. source: [rows, columns] with row stride <c>Stride</c>; destination: [rows, columns], or null for no copy.
    /// </summary>
    private readonly struct RowCopy(float* source, nint stride, int columns, float* destination)
    {
        /// <summary>Copies rows <c>[first, first + count)</c>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Rows<TV, TOps>(int first, int count)
            where TV : struct where TOps : struct, IFloatVector<TV>
        {
            if (destination != null)
            {
                Copy<TV, TOps>(source + first * stride, stride, count, columns, destination + first * columns);
            }
        }

        private static void Copy<TV, TOps>(float* source, nint stride, int rows, int columns, float* destination)
            where TV : struct where TOps : struct, IFloatVector<TV>
        {
            int w = TOps.Count;
            for (int j = 0; j < rows; j++, source += stride, destination += columns)
            {
                int c = 0;
                for (; c + w <= columns; c += w)
                {
                    TOps.Store(TOps.Load(ref source[0], (nuint)c), ref destination[0], (nuint)c);
                }

                for (; c < columns; c++)
                {
                    destination[c] = source[c];
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FoldMax<TV, TOps>(float* rowMax, nuint offset, TV a0, TV a1, TV a2, TV a3, TV a4, TV a5)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        TV max = TOps.MaxNative(TOps.MaxNative(TOps.MaxNative(a0, a1), TOps.MaxNative(a2, a3)), TOps.MaxNative(a4, a5));
        FoldMax<TV, TOps>(rowMax, offset, max);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FoldMax<TV, TOps>(float* rowMax, nuint offset, TV a)
        where TV : struct where TOps : struct, IFloatVector<TV> =>
        TOps.Store(TOps.MaxNative(a, TOps.Load(ref rowMax[0], offset)), ref rowMax[0], offset);

    /// <summary>
    /// Sets Sᵀ[j][r] = −∞ where key <c>j0 + j</c> is hidden from query <c>q0 + r</c>, i.e. where
    /// <c>r &lt; j + firstHidden</c> with <c>firstHidden = j0 − q0 − offset</c>, and folds the masked scores into rowMax.
    /// </summary>
    private static void MaskDiagonal<TV, TOps>(float* st, int keyCount, int firstHidden, float* rowMax)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        int w = TOps.Count, bq = VectorsPerTile * w;
        TV minusInfinity = TOps.Create(float.NegativeInfinity);
        for (int t = 0; t < VectorsPerTile; t++)
        {
            TV lane = TOps.Add(TOps.LaneIndices, TOps.Create(t * w));
            TV max = TOps.Load(ref rowMax[0], (nuint)(t * w));
            float* s = st + t * w;
            for (int j = 0; j < keyCount; j++, s += bq)
            {
                TV masked = TOps.SelectWhereLess(lane, TOps.Create(j + firstHidden), minusInfinity, TOps.Load(ref s[0], 0));
                TOps.Store(masked, ref s[0], 0);
                max = TOps.MaxNative(masked, max);
            }

            TOps.Store(max, ref rowMax[0], (nuint)(t * w));
        }
    }

    /// <summary>
    /// One online-softmax step per query lane, given the new running max <c>m' = max(m, max_j Sᵀ[j])</c>:
    /// <c>alpha = e^(m − m')</c>, <c>Pᵀ[j] = e^(Sᵀ[j] − m')</c> in place, <c>l' = l·alpha + Σ_j Pᵀ[j]</c>, then
    /// <c>m = m'</c>. While a lane has seen only −∞ its max is replaced by 0 in the subtraction, so e^(−∞ − 0) = 0
    /// instead of NaN. A NaN score (which the hardware max may skip) still gives a NaN weight and so a NaN row.
    /// </summary>
    private static void OnlineSoftmax<TV, TOps>(float* st, int keyCount, float* m, float* mNext, float* l, float* alpha)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        int w = TOps.Count, bq = VectorsPerTile * w;
        for (int t = 0; t < bq; t += w)
        {
            TV mOld = TOps.Load(ref m[0], (nuint)t);
            TV mNew = TOps.Load(ref mNext[0], (nuint)t);
            float* s = st + t;
            TV mSafe = TOps.SelectWhereLess(mNew, TOps.Create(float.MinValue), TOps.Zero, mNew);
            TV a = FastExp.Exp<TV, TOps>(TOps.Subtract(mOld, mSafe));
            TV sum0 = TOps.Zero, sum1 = TOps.Zero;
            int jj = 0;
            for (; jj + 2 <= keyCount; jj += 2)
            {
                TV p0 = FastExp.Exp<TV, TOps>(TOps.Subtract(TOps.Load(ref s[0], (nuint)(jj * bq)), mSafe));
                TV p1 = FastExp.Exp<TV, TOps>(TOps.Subtract(TOps.Load(ref s[0], (nuint)((jj + 1) * bq)), mSafe));
                TOps.Store(p0, ref s[0], (nuint)(jj * bq));
                TOps.Store(p1, ref s[0], (nuint)((jj + 1) * bq));
                sum0 = TOps.Add(sum0, p0);
                sum1 = TOps.Add(sum1, p1);
            }

            if (jj < keyCount)
            {
                TV p0 = FastExp.Exp<TV, TOps>(TOps.Subtract(TOps.Load(ref s[0], (nuint)(jj * bq)), mSafe));
                TOps.Store(p0, ref s[0], (nuint)(jj * bq));
                sum0 = TOps.Add(sum0, p0);
            }

            TOps.Store(mNew, ref m[0], (nuint)t);
            TOps.Store(a, ref alpha[0], (nuint)t);
            TOps.Store(TOps.MultiplyAdd(TOps.Load(ref l[0], (nuint)t), a, TOps.Add(sum0, sum1)), ref l[0], (nuint)t);
        }
    }

    /// <summary>
    /// <c>acc[r][:] = acc[r][:]·alpha[r] + Σ_j Pᵀ[j][r]·v[j][:]</c> for the first <paramref name="tileRows"/> rows, where j
    /// runs over the keys row r sees: <c>j ≤ r − firstHidden</c>. A masked key is left out rather than weighted by 0, so
    /// an infinite or NaN value behind the mask cannot leak in as <c>0·∞ = NaN</c>.
    /// pt: [keyCount][4·lanes]; v: [keyCount, valueDim] with row stride <paramref name="valueStride"/>; acc: [rows][valueDim].
    /// </summary>
    private static void AccumulateValues<TV, TOps>(float* pt, int keyCount, int firstHidden, float* v, nint valueStride, int valueDim,
                                                   float* alpha, float* acc, int tileRows)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        int bq = VectorsPerTile * TOps.Count;
        for (int r = 0; r < tileRows; r += RowsPerTile)
        {
            // Keys every row of the tile sees go through the 4-row micro-kernel; the few more that only its later rows
            // see (at most three, on the diagonal) are added row by row.
            int common = Math.Clamp(r - firstHidden + 1, 0, keyCount);
            AccumulateTile<TV, TOps>(pt + r, common, v, valueStride, valueDim, alpha + r, acc + r * valueDim);
            for (int t = 1; t < RowsPerTile; t++)
            {
                int seen = Math.Clamp(r + t - firstHidden + 1, 0, keyCount);
                for (int j = common; j < seen; j++)
                {
                    RowKernels.MultiplyAddRow<TV, TOps>(ref v[j * valueStride], pt[j * bq + r + t], ref acc[(r + t) * valueDim], valueDim);
                }
            }
        }
    }

    /// <summary>
    /// The 4-row P·V micro-kernel: <c>o_t[:] = o_t[:]·alpha[t] + Σ_{j &lt; keyCount} Pᵀ[j][t]·v[j][:]</c> for t &lt; 4.
    /// pt: column t of Pᵀ at <c>pt[j·4·lanes + t]</c>; o: four rows of <paramref name="valueDim"/> floats.
    /// </summary>
    private static void AccumulateTile<TV, TOps>(float* p, int keyCount, float* v, nint valueStride, int valueDim, float* alpha, float* o0)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        int w = TOps.Count, bq = VectorsPerTile * w;
        float* o1 = o0 + valueDim, o2 = o1 + valueDim, o3 = o2 + valueDim;
        TV s0 = TOps.Create(alpha[0]), s1 = TOps.Create(alpha[1]), s2 = TOps.Create(alpha[2]), s3 = TOps.Create(alpha[3]);
        int c = 0;
        for (; !FewRegisters && c + 4 * w <= valueDim; c += 4 * w)
        {
            nuint c0 = (nuint)c, c1 = (nuint)(c + w), c2 = (nuint)(c + 2 * w), c3 = (nuint)(c + 3 * w);
            TV a00 = TOps.Multiply(TOps.Load(ref o0[0], c0), s0), a01 = TOps.Multiply(TOps.Load(ref o0[0], c1), s0), a02 = TOps.Multiply(TOps.Load(ref o0[0], c2), s0), a03 = TOps.Multiply(TOps.Load(ref o0[0], c3), s0);
            TV a10 = TOps.Multiply(TOps.Load(ref o1[0], c0), s1), a11 = TOps.Multiply(TOps.Load(ref o1[0], c1), s1), a12 = TOps.Multiply(TOps.Load(ref o1[0], c2), s1), a13 = TOps.Multiply(TOps.Load(ref o1[0], c3), s1);
            TV a20 = TOps.Multiply(TOps.Load(ref o2[0], c0), s2), a21 = TOps.Multiply(TOps.Load(ref o2[0], c1), s2), a22 = TOps.Multiply(TOps.Load(ref o2[0], c2), s2), a23 = TOps.Multiply(TOps.Load(ref o2[0], c3), s2);
            TV a30 = TOps.Multiply(TOps.Load(ref o3[0], c0), s3), a31 = TOps.Multiply(TOps.Load(ref o3[0], c1), s3), a32 = TOps.Multiply(TOps.Load(ref o3[0], c2), s3), a33 = TOps.Multiply(TOps.Load(ref o3[0], c3), s3);
            float* vj = v + c;
            float* pj = p;
            for (int j = 0; j < keyCount; j++, vj += valueStride, pj += bq)
            {
                TV v0 = TOps.Load(ref vj[0], 0), v1 = TOps.Load(ref vj[0], (nuint)w), v2 = TOps.Load(ref vj[0], (nuint)(2 * w)), v3 = TOps.Load(ref vj[0], (nuint)(3 * w));
                TV b = TOps.Create(pj[0]);
                a00 = TOps.MultiplyAdd(b, v0, a00); a01 = TOps.MultiplyAdd(b, v1, a01); a02 = TOps.MultiplyAdd(b, v2, a02); a03 = TOps.MultiplyAdd(b, v3, a03);
                b = TOps.Create(pj[1]);
                a10 = TOps.MultiplyAdd(b, v0, a10); a11 = TOps.MultiplyAdd(b, v1, a11); a12 = TOps.MultiplyAdd(b, v2, a12); a13 = TOps.MultiplyAdd(b, v3, a13);
                b = TOps.Create(pj[2]);
                a20 = TOps.MultiplyAdd(b, v0, a20); a21 = TOps.MultiplyAdd(b, v1, a21); a22 = TOps.MultiplyAdd(b, v2, a22); a23 = TOps.MultiplyAdd(b, v3, a23);
                b = TOps.Create(pj[3]);
                a30 = TOps.MultiplyAdd(b, v0, a30); a31 = TOps.MultiplyAdd(b, v1, a31); a32 = TOps.MultiplyAdd(b, v2, a32); a33 = TOps.MultiplyAdd(b, v3, a33);
            }

            Store4<TV, TOps>(o0 + c, w, a00, a01, a02, a03);
            Store4<TV, TOps>(o1 + c, w, a10, a11, a12, a13);
            Store4<TV, TOps>(o2 + c, w, a20, a21, a22, a23);
            Store4<TV, TOps>(o3 + c, w, a30, a31, a32, a33);
        }

        for (; c + 2 * w <= valueDim; c += 2 * w)
        {
            // Two vectors by four rows (8 accumulators): the widest P·V tile for 16 registers; elsewhere the tail of the wider one.
            nuint c0 = (nuint)c, c1 = (nuint)(c + w);
            TV a00 = TOps.Multiply(TOps.Load(ref o0[0], c0), s0), a01 = TOps.Multiply(TOps.Load(ref o0[0], c1), s0);
            TV a10 = TOps.Multiply(TOps.Load(ref o1[0], c0), s1), a11 = TOps.Multiply(TOps.Load(ref o1[0], c1), s1);
            TV a20 = TOps.Multiply(TOps.Load(ref o2[0], c0), s2), a21 = TOps.Multiply(TOps.Load(ref o2[0], c1), s2);
            TV a30 = TOps.Multiply(TOps.Load(ref o3[0], c0), s3), a31 = TOps.Multiply(TOps.Load(ref o3[0], c1), s3);
            float* vj = v + c;
            float* pj = p;
            for (int j = 0; j < keyCount; j++, vj += valueStride, pj += bq)
            {
                TV v0 = TOps.Load(ref vj[0], 0), v1 = TOps.Load(ref vj[0], (nuint)w);
                TV b = TOps.Create(pj[0]);
                a00 = TOps.MultiplyAdd(b, v0, a00); a01 = TOps.MultiplyAdd(b, v1, a01);
                b = TOps.Create(pj[1]);
                a10 = TOps.MultiplyAdd(b, v0, a10); a11 = TOps.MultiplyAdd(b, v1, a11);
                b = TOps.Create(pj[2]);
                a20 = TOps.MultiplyAdd(b, v0, a20); a21 = TOps.MultiplyAdd(b, v1, a21);
                b = TOps.Create(pj[3]);
                a30 = TOps.MultiplyAdd(b, v0, a30); a31 = TOps.MultiplyAdd(b, v1, a31);
            }

            TOps.Store(a00, ref o0[0], c0); TOps.Store(a01, ref o0[0], c1);
            TOps.Store(a10, ref o1[0], c0); TOps.Store(a11, ref o1[0], c1);
            TOps.Store(a20, ref o2[0], c0); TOps.Store(a21, ref o2[0], c1);
            TOps.Store(a30, ref o3[0], c0); TOps.Store(a31, ref o3[0], c1);
        }

        for (; c + w <= valueDim; c += w)
        {
            nuint c0 = (nuint)c;
            TV a0 = TOps.Multiply(TOps.Load(ref o0[0], c0), s0), a1 = TOps.Multiply(TOps.Load(ref o1[0], c0), s1);
            TV a2 = TOps.Multiply(TOps.Load(ref o2[0], c0), s2), a3 = TOps.Multiply(TOps.Load(ref o3[0], c0), s3);
            float* vj = v + c;
            float* pj = p;
            for (int j = 0; j < keyCount; j++, vj += valueStride, pj += bq)
            {
                TV v0 = TOps.Load(ref vj[0], 0);
                a0 = TOps.MultiplyAdd(TOps.Create(pj[0]), v0, a0);
                a1 = TOps.MultiplyAdd(TOps.Create(pj[1]), v0, a1);
                a2 = TOps.MultiplyAdd(TOps.Create(pj[2]), v0, a2);
                a3 = TOps.MultiplyAdd(TOps.Create(pj[3]), v0, a3);
            }

            TOps.Store(a0, ref o0[0], c0);
            TOps.Store(a1, ref o1[0], c0);
            TOps.Store(a2, ref o2[0], c0);
            TOps.Store(a3, ref o3[0], c0);
        }

        for (; c < valueDim; c++)
        {
            float a0 = o0[c] * alpha[0], a1 = o1[c] * alpha[1], a2 = o2[c] * alpha[2], a3 = o3[c] * alpha[3];
            float* vj = v + c;
            float* pj = p;
            for (int j = 0; j < keyCount; j++, vj += valueStride, pj += bq)
            {
                float v0 = vj[0];
                a0 = ScalarOps.MultiplyAdd(pj[0], v0, a0);
                a1 = ScalarOps.MultiplyAdd(pj[1], v0, a1);
                a2 = ScalarOps.MultiplyAdd(pj[2], v0, a2);
                a3 = ScalarOps.MultiplyAdd(pj[3], v0, a3);
            }

            o0[c] = a0;
            o1[c] = a1;
            o2[c] = a2;
            o3[c] = a3;
        }
    }
}
