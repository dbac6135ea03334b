using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;

namespace SelfAttention.Kernels;

/// <summary>
/// Register-blocked attention with online softmax (FlashAttention-style: Dao et al., 2022), one query block at a time.
/// <para>
/// Layout choice: a block of <c>Bq = 4·lanes</c> queries lives in the vector lanes. The query block is packed
/// transposed and pre-scaled once (<c>Qt[c][r] = q[r][c]·scale</c>, lanes × lanes blocks transposed in registers), which
/// is amortised over every key. Then
/// <list type="bullet">
/// <item>scores <c>Sᵀ[j][r]</c> come from a 6-key × 4-vector micro-kernel that broadcasts <c>k[j][c]</c> straight from K's
/// natural layout (24 accumulators, each loaded vector feeds six FMAs), so K is never packed;</item>
/// <item>the online softmax is vertical: the running max, sum and rescale factor of a query are lanes of a vector, so it
/// needs no horizontal reductions, and the score micro-kernel folds each register tile into the new max as it stores it;</item>
/// <item>the output accumulates transposed too, <c>Oᵀ[c][r] += Σ_j v[j][c]·Pᵀ[j][r]</c>: a 6-channel × 4-vector
/// micro-kernel, the score kernel's shape, that loads rows of Pᵀ and broadcasts <c>v[j][c]</c> straight from V's natural
/// layout, so V is read in place whatever its alignment; the rescale by <c>e^(m_old − m_new)</c> is a lane-wise multiply
/// folded into loading the accumulator tile, and the final <c>o[r][c] = Oᵀ[c][r] / l[r]</c> scales Oᵀ in place and
/// transposes it once, in the same register blocks as Qt.</item>
/// </list>
/// </para>
/// <para>
/// A work item is <see cref="SubBlocks"/> query blocks that take each key block in turn, so K and V are read from far
/// away once per item rather than once per block.
/// </para>
/// <para>
/// Scratch per work item (floats, 64-byte aligned): <c>Sᵀ [KeyBlock × Bq]</c>, shared, then per query block
/// <c>Qt [headDim × Bq]</c>, <c>Oᵀ [valueDim × Bq]</c> and <c>m, l, alpha, m' [Bq]</c> each: O(tile), never
/// O(queryLength·keyLength).
/// </para>
/// Causal: key blocks past the last key any row of the query block can see are never visited; only blocks that cross
/// the diagonal are masked. A row that sees no key keeps m = −∞ and l = 0 and is written as zeros.
/// </summary>
internal static unsafe class TiledAttention
{
    /// <summary>Keys per block: Sᵀ (KeyBlock × Bq) stays in L1 while every channel tile of P·V sweeps it.</summary>
    public const int KeyBlock = 128;

    private const int KeysPerTile = 6;

    /// <summary>
    /// True where the ISA has 16 vector registers (x64 without AVX-512) rather than 32 (AVX-512, Arm64). The 24-accumulator
    /// score and P·V tiles would spill there (measured: 55.9 GFLOP/s at (12, 512, 512, 64) with 256-bit vectors), so the
    /// score tile is taken half as wide and P·V two channels at a time. A JIT-time constant.
    /// </summary>
    private static bool FewRegisters => !Vector512.IsHardwareAccelerated && !AdvSimd.Arm64.IsSupported;
    private const int VectorsPerTile = 4;

    /// <summary>Query rows per work item at this width.</summary>
    public static int QueryBlock<TV, TOps>() where TV : struct where TOps : struct, IFloatVector<TV> => VectorsPerTile * TOps.Count;

    /// <summary>Scratch floats one work item needs (in long: with a value dim near 2²⁵ it passes <see cref="int.MaxValue"/>).</summary>
    public static long ScratchLength(int queryBlock, int headDim, int valueDim) =>
        (long)queryBlock * KeyBlock + SubBlocks * BlockState.Length(queryBlock, headDim, valueDim);

    /// <summary>
    /// Query blocks per work item. They take each key block in turn while its K and V rows are in cache, which halves the
    /// K/V traffic: measured in one run, 1.5–3 % faster at (12, 512, 512, 64) and (8, 2048, 2048, 64) than one block per
    /// item, and no gain from three or four.
    /// </summary>
    private const int SubBlocks = 2;

    /// <summary>Query rows per work item at this width: <see cref="SubBlocks"/> blocks of <see cref="QueryBlock"/>.</summary>
    public static int ItemRows<TV, TOps>() where TV : struct where TOps : struct, IFloatVector<TV> => SubBlocks * QueryBlock<TV, TOps>();

    /// <summary>
    /// One query block of a work item: its rows, the keys they can see, and its running state in scratch, laid out as
    /// <c>Qt [headDim][Bq]</c>, <c>Oᵀ [valueDim][Bq]</c>, then <c>m, l, alpha, m' [Bq]</c>.
    /// </summary>
    private readonly struct BlockState
    {
        public readonly int First, Rows, KeyEnd;
        public readonly float* Qt, Ot, M, L, Alpha, MNext;

        public BlockState(in AttentionProblem p, int first, int bq, float* state)
        {
            First = first;
            Rows = Math.Min(bq, p.QueryLength - first);
            KeyEnd = p.IsCausal ? Views.VisibleKeys(first + Rows - 1, p.QueryLength, p.KeyLength) : p.KeyLength;
            Qt = state;
            Ot = Qt + p.HeadDim * bq;
            M = Ot + p.ValueDim * bq;
            L = M + bq;
            Alpha = L + bq;
            MNext = Alpha + bq;
        }

        /// <summary>Scratch floats of one block's state.</summary>
        public static long Length(int bq, int headDim, int valueDim) => bq * ((long)headDim + valueDim + 4);
    }

    /// <summary>Computes query rows <c>[q0, q0 + SubBlocks·Bq)</c> (clipped to the query length) of head (batch, head).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunBlock<TV, TOps>(in AttentionProblem p, int batch, int head, int q0, Span<float> scratchSpan)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        int w = TOps.Count, bq = VectorsPerTile * w;
        int headDim = p.HeadDim, valueDim = p.ValueDim;
        int subBlocks = Math.Min(SubBlocks, (p.QueryLength - q0 + bq - 1) / bq);

        fixed (float* scratch = scratchSpan)
        {
            float* st = scratch;                        // [KeyBlock][bq], shared by the blocks
            float* state = st + KeyBlock * bq;          // then each block's state
            Debug.Assert(scratchSpan.Length >= ScratchLength(bq, headDim, valueDim), "scratch shorter than ScratchLength");
            Debug.Assert(q0 >= 0 && q0 < p.QueryLength && batch < p.Batch && head < p.Heads, "work item outside the problem");
            int stateLength = (int)BlockState.Length(bq, headDim, valueDim);
            BlockState* blocks = stackalloc BlockState[SubBlocks];
            nint queryStride = p.QueryRowStride;
            float* k = p.KeyHead(batch, head);
            float* v = p.ValueHead(batch, head);
            int keyEnd = 0;
            float largestQuery = 0f;
            for (int b = 0; b < subBlocks; b++)
            {
                blocks[b] = new BlockState(p, q0 + b * bq, bq, state + b * stateLength);
                keyEnd = Math.Max(keyEnd, blocks[b].KeyEnd);
                Begin<TV, TOps>(p.QueryHead(batch, head) + blocks[b].First * queryStride, queryStride, blocks[b],
                                (q0 + subBlocks * bq - blocks[b].First) * queryStride, headDim, valueDim, p.Scale);
                largestQuery = MathF.Max(largestQuery, LargestMagnitude<TV, TOps>(blocks[b].Qt, bq, bq, headDim));
            }

            // The float scores cannot overflow when every partial sum of q'·k is bounded: |Σ q'_c·k_c| ≤ headDim·max|q'|·max|k|.
            // Past that bound (inputs near 1e19 and up, or ±∞ in Q or K) the item's rows are computed exactly instead.
            // The two magnitude passes (Qt and K) are not free: together they measured about 5 % of the tiled kernel at
            // BERT-base and (12, 512, 512, 64) on a 256-bit machine, in one process against the build without them.
            // NaN inputs need no bound (they reach the output and are recomputed there).
            // A scale below 1 can also push q' = q·scale into float's subnormal range, where it keeps few bits; that
            // matters once keys are large enough to lift the lost bits into the score: headDim·max|k| > 2¹¹⁰ keeps the
            // loss under 2⁻⁴⁰ of a score otherwise.
            double keyBound = (double)headDim * LargestMagnitude<TV, TOps>(k, headDim, p.KeyRowStride, keyEnd);
            double bound = keyBound * largestQuery;
            if (!(bound < ScoreBound) || (p.Scale < 1f && !(keyBound <= KernelDispatch.ExactScaleBound)))
            {
                for (int i = q0; i < q0 + subBlocks * bq && i < p.QueryLength; i++)
                {
                    ExactRow.Compute(p, batch, head, i);
                }

                return;
            }

            // Causal, bottom-right: row i sees keys j ≤ i + offset, so no row of a block sees past its last row + offset.
            // Each key block is visited by every query block in turn while its K and V rows are still in cache.
            int offset = p.KeyLength - p.QueryLength;
            for (int j0 = 0; j0 < keyEnd; j0 += KeyBlock)
            {
                for (int b = 0; b < subBlocks; b++)
                {
                    ref readonly BlockState block = ref blocks[b];
                    if (j0 >= block.KeyEnd)
                    {
                        continue;
                    }

                    // The block crosses the diagonal when its last key is hidden from the query block's first row. Then
                    // row r sees the block's keys jj ≤ r − firstHidden; otherwise every row sees all of them. The running
                    // max takes the block's scores as they are computed, or after masking on the diagonal.
                    int bk = Math.Min(KeyBlock, block.KeyEnd - j0);
                    bool diagonal = p.IsCausal && j0 + bk - 1 > block.First + offset;
                    int firstHidden = diagonal ? j0 - block.First - offset : int.MinValue / 2;
                    new Span<float>(block.M, bq).CopyTo(new Span<float>(block.MNext, bq));
                    Scores<TV, TOps>(block.Qt, k + j0 * p.KeyRowStride, p.KeyRowStride, bk, headDim, st, diagonal ? null : block.MNext);

                    if (diagonal)
                    {
                        MaskDiagonal<TV, TOps>(st, bk, firstHidden, block.MNext);
                    }

                    OnlineSoftmax<TV, TOps>(st, bk, block.M, block.MNext, block.L, block.Alpha);
                    AccumulateValues<TV, TOps>(st, bk, firstHidden, v + j0 * p.ValueRowStride, p.ValueRowStride, valueDim, block.Alpha, block.Ot);
                }
            }

            for (int b = 0; b < subBlocks; b++)
            {
                ref readonly BlockState block = ref blocks[b];
                float* o = p.OutputHead(batch, head) + block.First * p.OutputRowStride;
                Finish<TV, TOps>(block, valueDim, o, p.OutputRowStride);

                // A row whose float scores left float's range (l < 1, or a non-finite output) is recomputed exactly.
                for (int r = 0; r < block.Rows; r++)
                {
                    int i = block.First + r;
                    int visible = p.IsCausal ? Views.VisibleKeys(i, p.QueryLength, p.KeyLength) : p.KeyLength;
                    if (ExactRow.NeedsExact<TV, TOps>(block.L[r], visible, o + r * p.OutputRowStride, valueDim))
                    {
                        ExactRow.Compute(p, batch, head, i);
                    }
                }
            }
        }
    }

    /// <summary>2¹²⁶: a bound on every partial score sum that leaves float's largest value (≈ 2¹²⁸) a factor of four of headroom.</summary>
    private const double ScoreBound = 8.507059173023462e37;

    /// <summary>
    /// The largest |x| over x: [rows, width] with row stride <paramref name="stride"/>. NaN may be skipped (the hardware
    /// maximum): callers bound overflow with it, and NaN reaches their output anyway.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float LargestMagnitude<TV, TOps>(float* x, int width, nint stride, int rows)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        int w = TOps.Count;
        TV high = TOps.Zero, low = TOps.Zero;
        float scalar = 0f;
        for (int r = 0; r < rows; r++)
        {
            float* row = x + r * stride;
            int c = 0;
            for (; c + w <= width; c += w)
            {
                TV value = TOps.Load(ref row[0], (nuint)c);
                high = TOps.MaxNative(value, high);
                low = TOps.MaxNative(TOps.Subtract(TOps.Zero, value), low);
            }

            for (; c < width; c++)
            {
                scalar = MathF.Max(scalar, MathF.Abs(row[c]));
            }
        }

        return MathF.Max(scalar, TOps.MaxAcross(TOps.MaxNative(high, low)));
    }

    /// <summary>
    /// Sets up one block's state: <c>Qt[c][r] = q[r][c]·scale</c> (lanes past the last row zero, so they stay finite and
    /// are simply not written out), Oᵀ = 0, m = −∞, l = 0. Each query row is read once per call, strided (heads
    /// interleaved), so it comes from far away; the rows <paramref name="prefetchDistance"/> floats on (the next work
    /// item's, or a harmless miss) are prefetched meanwhile.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Begin<TV, TOps>(float* q, nint queryStride, in BlockState block, nint prefetchDistance, int headDim, int valueDim, float scale)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        int bq = VectorsPerTile * TOps.Count, rows = block.Rows;
        Transpose<TV, TOps>(q, queryStride, rows, headDim, block.Qt, bq);
        Scale<TV, TOps>(block.Qt, headDim, bq, TOps.Create(scale));
        for (int r = 0; r < rows; r++)
        {
            Prefetch.Floats(q + r * queryStride + prefetchDistance, headDim);
        }

        for (int r = rows; r < bq; r++)
        {
            float* column = block.Qt + r;
            for (int c = 0; c < headDim; c++, column += bq)
            {
                *column = 0f;
            }
        }

        new Span<float>(block.Ot, valueDim * bq).Clear();
        new Span<float>(block.M, bq).Fill(float.NegativeInfinity);
        new Span<float>(block.L, bq).Clear();
    }

    /// <summary>
    /// Writes one block's rows: <c>o[r][c] = Oᵀ[c][r] / l[r]</c>, a row that saw nothing (l = 0) as zeros. The inverses
    /// go where alpha was; Oᵀ is scaled in place and transposed out in register blocks.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Finish<TV, TOps>(in BlockState block, int valueDim, float* o, nint outputStride)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        int w = TOps.Count, bq = VectorsPerTile * w;
        float* l = block.L, inverse = block.Alpha;
        for (int r = 0; r < bq; r++)
        {
            inverse[r] = l[r] == 0f ? 0f : 1f / l[r];
        }

        for (int c = 0; c < valueDim; c++)
        {
            float* column = block.Ot + c * bq;
            for (int t = 0; t < bq; t += w)
            {
                TOps.Store(TOps.Multiply(TOps.Load(ref column[0], (nuint)t), TOps.Load(ref inverse[0], (nuint)t)), ref column[0], (nuint)t);
            }
        }

        Transpose<TV, TOps>(block.Ot, bq, valueDim, block.Rows, o, outputStride);
    }

    /// <summary>
    /// <c>destination[c][r] = source[r][c]</c> for r &lt; rows, c &lt; columns: whole lanes × lanes blocks in registers,
    /// the ragged edges element by element. source: [rows, columns] with row stride <paramref name="sourceStride"/>;
    /// destination: [columns, rows] with row stride <paramref name="destinationStride"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Transpose<TV, TOps>(float* source, nint sourceStride, int rows, int columns, float* destination, nint destinationStride)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        int w = TOps.Count;
        int r = 0;
        for (; r + w <= rows; r += w)
        {
            int c = 0;
            for (; c + w <= columns; c += w)
            {
                TOps.Transpose(ref source[r * sourceStride + c], (nuint)sourceStride, ref destination[c * destinationStride + r], (nuint)destinationStride);
            }

            for (; c < columns; c++)
            {
                for (int rr = r; rr < r + w; rr++)
                {
                    destination[c * destinationStride + rr] = source[rr * sourceStride + c];
                }
            }
        }

        for (; r < rows; r++)
        {
            for (int c = 0; c < columns; c++)
            {
                destination[c * destinationStride + r] = source[r * sourceStride + c];
            }
        }
    }

    /// <summary><c>x[i][t] *= factor</c> lane-wise over x: [count][width], width a multiple of the lane count.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Scale<TV, TOps>(float* x, int count, int width, TV factor)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        int w = TOps.Count;
        for (int i = 0; i < count; i++)
        {
            float* row = x + i * width;
            for (int t = 0; t < width; t += w)
            {
                TOps.Store(TOps.Multiply(TOps.Load(ref row[0], (nuint)t), factor), ref row[0], (nuint)t);
            }
        }
    }

    /// <summary>
    /// Sᵀ[j][r] = Σ_c k[j][c]·Qt[c][r] for j &lt; keyCount, and <c>rowMax[r] = max(rowMax[r], max_j Sᵀ[j][r])</c> unless
    /// rowMax is null: folding each register tile into the max saves a pass over Sᵀ. qt: [headDim][4·lanes];
    /// k: [keyCount, headDim] with row stride <paramref name="keyStride"/>; st: [keyCount][4·lanes]; rowMax: [4·lanes].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Scores<TV, TOps>(float* qt, float* k, nint keyStride, int keyCount, int headDim, float* st, float* rowMax)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        int w = TOps.Count, bq = VectorsPerTile * w;
        if (FewRegisters)
        {
            ScoresHalfWidth<TV, TOps>(qt, k, keyStride, keyCount, headDim, st, rowMax);
            ScoresHalfWidth<TV, TOps>(qt + 2 * w, k, keyStride, keyCount, headDim, st + 2 * w, rowMax == null ? null : rowMax + 2 * w);
            return;
        }

        int j = 0;
        for (; j + KeysPerTile <= keyCount; j += KeysPerTile)
        {
            float* k0 = k + j * keyStride, k1 = k0 + keyStride, k2 = k1 + keyStride, k3 = k2 + keyStride, k4 = k3 + keyStride, k5 = k4 + keyStride;
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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
    /// <c>Oᵀ[c][r] = Oᵀ[c][r]·alpha[r] + Σ_j Pᵀ[j][r]·v[j][c]</c>, where j runs over the keys row r sees:
    /// <c>j ≤ r − firstHidden</c>. Keys every row sees go through register tiles of channels × 4 vectors of rows that
    /// broadcast <c>v[j][c]</c>, so V is read in place whatever its alignment; the keys on the diagonal that only later
    /// rows see come after, where a masked row has <c>P = 0</c> and a non-finite value is replaced by 0 for it, so that
    /// <c>0·∞ = NaN</c> cannot leak in. pt: [keyCount][4·lanes]; v: [keyCount, valueDim] with row stride
    /// <paramref name="valueStride"/>; ot: [valueDim][4·lanes].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AccumulateValues<TV, TOps>(float* pt, int keyCount, int firstHidden, float* v, nint valueStride, int valueDim,
                                                    float* alpha, float* ot)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        int w = TOps.Count, bq = VectorsPerTile * w;
        int allSee = Math.Clamp(1 - firstHidden, 0, keyCount);

        // A masked row has P = 0 exactly, so while the diagonal's value rows are finite, adding their keys in the
        // register tiles adds exact zeros for it and gives the same bits as the masked loop below, at tile speed.
        if (allSee < keyCount && AllFinite<TV, TOps>(v + allSee * valueStride, valueStride, keyCount - allSee, valueDim))
        {
            allSee = keyCount;
        }

        int c = 0;
        for (; !FewRegisters && c + 6 <= valueDim; c += 6)
        {
            ChannelTile6<TV, TOps>(pt, allSee, v + c, valueStride, alpha, ot + c * bq);
        }

        for (; c + 2 <= valueDim; c += 2)
        {
            ChannelTile2<TV, TOps>(pt, allSee, v + c, valueStride, alpha, ot + c * bq);
        }

        if (c < valueDim)
        {
            ChannelTile2<TV, TOps>(pt, allSee, v + c, valueStride, alpha, ot + c * bq, single: true);
        }

        for (int j = allSee; j < keyCount; j++)
        {
            float* pj = pt + j * bq;
            float* vj = v + j * valueStride;
            TV p0 = TOps.Load(ref pj[0], 0), p1 = TOps.Load(ref pj[0], (nuint)w), p2 = TOps.Load(ref pj[0], (nuint)(2 * w)), p3 = TOps.Load(ref pj[0], (nuint)(3 * w));
            TV threshold = TOps.Create(j + firstHidden);
            for (int cc = 0; cc < valueDim; cc++)
            {
                float* o = ot + cc * bq;
                TV b = TOps.Create(vj[cc]);
                TV b0 = b, b1 = b, b2 = b, b3 = b;
                if (!float.IsFinite(vj[cc]))
                {
                    b0 = TOps.SelectWhereLess(TOps.LaneIndices, threshold, TOps.Zero, b);
                    b1 = TOps.SelectWhereLess(TOps.Add(TOps.LaneIndices, TOps.Create(w)), threshold, TOps.Zero, b);
                    b2 = TOps.SelectWhereLess(TOps.Add(TOps.LaneIndices, TOps.Create(2 * w)), threshold, TOps.Zero, b);
                    b3 = TOps.SelectWhereLess(TOps.Add(TOps.LaneIndices, TOps.Create(3 * w)), threshold, TOps.Zero, b);
                }

                TOps.Store(TOps.MultiplyAdd(p0, b0, TOps.Load(ref o[0], 0)), ref o[0], 0);
                TOps.Store(TOps.MultiplyAdd(p1, b1, TOps.Load(ref o[0], (nuint)w)), ref o[0], (nuint)w);
                TOps.Store(TOps.MultiplyAdd(p2, b2, TOps.Load(ref o[0], (nuint)(2 * w))), ref o[0], (nuint)(2 * w));
                TOps.Store(TOps.MultiplyAdd(p3, b3, TOps.Load(ref o[0], (nuint)(3 * w))), ref o[0], (nuint)(3 * w));
            }
        }
    }

    /// <summary>True when every element of v <c>[rows, width]</c> (row stride <paramref name="stride"/>) is finite.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool AllFinite<TV, TOps>(float* v, nint stride, int rows, int width)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        // x·0 is 0 for finite x and NaN for ±∞ and NaN, so the sum of the products is NaN exactly when one is not finite.
        nuint w = (nuint)TOps.Count, n = (nuint)width;
        TV acc = TOps.Zero;
        float tail = 0f;
        for (int r = 0; r < rows; r++)
        {
            float* row = v + r * stride;
            nuint c = 0;
            for (; c + w <= n; c += w)
            {
                acc = TOps.MultiplyAdd(TOps.Load(ref row[0], c), TOps.Zero, acc);
            }

            for (; c < n; c++)
            {
                tail += row[c] * 0f;
            }
        }

        return !float.IsNaN(TOps.Sum(acc) + tail);
    }

    /// <summary>The 6-channel × 4-vector P·V tile (24 accumulators): channels c &lt; 6 of Oᵀ, rescaled by alpha, plus keys j &lt; keyCount.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ChannelTile6<TV, TOps>(float* pt, int keyCount, float* v, nint valueStride, float* alpha, float* ot)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        int w = TOps.Count, bq = VectorsPerTile * w;
        nuint o1 = (nuint)w, o2 = (nuint)(2 * w), o3 = (nuint)(3 * w);
        TV s0 = TOps.Load(ref alpha[0], 0), s1 = TOps.Load(ref alpha[0], o1), s2 = TOps.Load(ref alpha[0], o2), s3 = TOps.Load(ref alpha[0], o3);
        float* c0 = ot, c1 = c0 + bq, c2 = c1 + bq, c3 = c2 + bq, c4 = c3 + bq, c5 = c4 + bq;
        TV a00 = TOps.Multiply(TOps.Load(ref c0[0], 0), s0), a01 = TOps.Multiply(TOps.Load(ref c0[0], o1), s1), a02 = TOps.Multiply(TOps.Load(ref c0[0], o2), s2), a03 = TOps.Multiply(TOps.Load(ref c0[0], o3), s3);
        TV a10 = TOps.Multiply(TOps.Load(ref c1[0], 0), s0), a11 = TOps.Multiply(TOps.Load(ref c1[0], o1), s1), a12 = TOps.Multiply(TOps.Load(ref c1[0], o2), s2), a13 = TOps.Multiply(TOps.Load(ref c1[0], o3), s3);
        TV a20 = TOps.Multiply(TOps.Load(ref c2[0], 0), s0), a21 = TOps.Multiply(TOps.Load(ref c2[0], o1), s1), a22 = TOps.Multiply(TOps.Load(ref c2[0], o2), s2), a23 = TOps.Multiply(TOps.Load(ref c2[0], o3), s3);
        TV a30 = TOps.Multiply(TOps.Load(ref c3[0], 0), s0), a31 = TOps.Multiply(TOps.Load(ref c3[0], o1), s1), a32 = TOps.Multiply(TOps.Load(ref c3[0], o2), s2), a33 = TOps.Multiply(TOps.Load(ref c3[0], o3), s3);
        TV a40 = TOps.Multiply(TOps.Load(ref c4[0], 0), s0), a41 = TOps.Multiply(TOps.Load(ref c4[0], o1), s1), a42 = TOps.Multiply(TOps.Load(ref c4[0], o2), s2), a43 = TOps.Multiply(TOps.Load(ref c4[0], o3), s3);
        TV a50 = TOps.Multiply(TOps.Load(ref c5[0], 0), s0), a51 = TOps.Multiply(TOps.Load(ref c5[0], o1), s1), a52 = TOps.Multiply(TOps.Load(ref c5[0], o2), s2), a53 = TOps.Multiply(TOps.Load(ref c5[0], o3), s3);
        float* pj = pt, vj = v;
        for (int j = 0; j < keyCount; j++, pj += bq, vj += valueStride)
        {
            TV p0 = TOps.Load(ref pj[0], 0), p1 = TOps.Load(ref pj[0], o1), p2 = TOps.Load(ref pj[0], o2), p3 = TOps.Load(ref pj[0], o3);
            TV b = TOps.Create(vj[0]);
            a00 = TOps.MultiplyAdd(p0, b, a00); a01 = TOps.MultiplyAdd(p1, b, a01); a02 = TOps.MultiplyAdd(p2, b, a02); a03 = TOps.MultiplyAdd(p3, b, a03);
            b = TOps.Create(vj[1]);
            a10 = TOps.MultiplyAdd(p0, b, a10); a11 = TOps.MultiplyAdd(p1, b, a11); a12 = TOps.MultiplyAdd(p2, b, a12); a13 = TOps.MultiplyAdd(p3, b, a13);
            b = TOps.Create(vj[2]);
            a20 = TOps.MultiplyAdd(p0, b, a20); a21 = TOps.MultiplyAdd(p1, b, a21); a22 = TOps.MultiplyAdd(p2, b, a22); a23 = TOps.MultiplyAdd(p3, b, a23);
            b = TOps.Create(vj[3]);
            a30 = TOps.MultiplyAdd(p0, b, a30); a31 = TOps.MultiplyAdd(p1, b, a31); a32 = TOps.MultiplyAdd(p2, b, a32); a33 = TOps.MultiplyAdd(p3, b, a33);
            b = TOps.Create(vj[4]);
            a40 = TOps.MultiplyAdd(p0, b, a40); a41 = TOps.MultiplyAdd(p1, b, a41); a42 = TOps.MultiplyAdd(p2, b, a42); a43 = TOps.MultiplyAdd(p3, b, a43);
            b = TOps.Create(vj[5]);
            a50 = TOps.MultiplyAdd(p0, b, a50); a51 = TOps.MultiplyAdd(p1, b, a51); a52 = TOps.MultiplyAdd(p2, b, a52); a53 = TOps.MultiplyAdd(p3, b, a53);
        }

        Store4<TV, TOps>(c0, w, a00, a01, a02, a03);
        Store4<TV, TOps>(c1, w, a10, a11, a12, a13);
        Store4<TV, TOps>(c2, w, a20, a21, a22, a23);
        Store4<TV, TOps>(c3, w, a30, a31, a32, a33);
        Store4<TV, TOps>(c4, w, a40, a41, a42, a43);
        Store4<TV, TOps>(c5, w, a50, a51, a52, a53);
    }

    /// <summary>
    /// The 2-channel × 4-vector P·V tile (8 accumulators: the widest for 16 registers, elsewhere the tail of the 6-channel
    /// one); with <paramref name="single"/> only channel 0.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ChannelTile2<TV, TOps>(float* pt, int keyCount, float* v, nint valueStride, float* alpha, float* ot, bool single = false)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        int w = TOps.Count, bq = VectorsPerTile * w;
        nuint o1 = (nuint)w, o2 = (nuint)(2 * w), o3 = (nuint)(3 * w);
        TV s0 = TOps.Load(ref alpha[0], 0), s1 = TOps.Load(ref alpha[0], o1), s2 = TOps.Load(ref alpha[0], o2), s3 = TOps.Load(ref alpha[0], o3);
        float* c0 = ot, c1 = single ? c0 : c0 + bq;
        nint second = single ? 0 : 1;
        TV a00 = TOps.Multiply(TOps.Load(ref c0[0], 0), s0), a01 = TOps.Multiply(TOps.Load(ref c0[0], o1), s1), a02 = TOps.Multiply(TOps.Load(ref c0[0], o2), s2), a03 = TOps.Multiply(TOps.Load(ref c0[0], o3), s3);
        TV a10 = TOps.Multiply(TOps.Load(ref c1[0], 0), s0), a11 = TOps.Multiply(TOps.Load(ref c1[0], o1), s1), a12 = TOps.Multiply(TOps.Load(ref c1[0], o2), s2), a13 = TOps.Multiply(TOps.Load(ref c1[0], o3), s3);
        float* pj = pt, vj = v;
        for (int j = 0; j < keyCount; j++, pj += bq, vj += valueStride)
        {
            TV p0 = TOps.Load(ref pj[0], 0), p1 = TOps.Load(ref pj[0], o1), p2 = TOps.Load(ref pj[0], o2), p3 = TOps.Load(ref pj[0], o3);
            TV b = TOps.Create(vj[0]);
            a00 = TOps.MultiplyAdd(p0, b, a00); a01 = TOps.MultiplyAdd(p1, b, a01); a02 = TOps.MultiplyAdd(p2, b, a02); a03 = TOps.MultiplyAdd(p3, b, a03);
            b = TOps.Create(vj[second]);
            a10 = TOps.MultiplyAdd(p0, b, a10); a11 = TOps.MultiplyAdd(p1, b, a11); a12 = TOps.MultiplyAdd(p2, b, a12); a13 = TOps.MultiplyAdd(p3, b, a13);
        }

        if (!single)
        {
            Store4<TV, TOps>(c1, w, a10, a11, a12, a13);
        }

        Store4<TV, TOps>(c0, w, a00, a01, a02, a03);
    }
}
