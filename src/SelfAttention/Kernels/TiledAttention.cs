using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using SelfAttention.Kernels.Masks;

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
/// Masks (<see cref="IAttentionMask{TSelf}"/>): a query block visits only the key blocks inside the union of its rows'
/// <see cref="IAttentionMask{TSelf}.Keys"/>, skips a tile the mask calls empty, runs a full tile unmasked, and masks a
/// partial one (causal: the blocks that cross the diagonal) per element with −∞. A score modifier
/// (<see cref="IAttentionMask{TSelf}.ModifiesScores"/>: softcap, ALiBi, dense masks) rewrites each visited tile after
/// its scores, before the mask; the running max is then folded after it. A score-only first step (the softcap:
/// <see cref="IAttentionMask{TSelf}.ModifiesLanes"/>) is applied inside the score kernel to each register tile as it is
/// stored, so a softcap alone keeps the max folded there and costs no pass over the tile. The online softmax is
/// <see cref="OnlineSoftmax"/>'s: a row that sees no key keeps m = −∞ and l = 0 and is written as zeros.
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

    /// <summary>Rows and keys of the sub-tiles a partial tile of a per-element mask is classified in before any element is asked (<see cref="MaskTile"/>).</summary>
    private const int SubTile = 16;

    /// <summary>Query rows per work item at this width.</summary>
    public static int QueryBlock<TV, TOps>() where TV : struct where TOps : struct, IFloatVector<TV> => VectorsPerTile * TOps.Count;

    /// <summary>Query rows per block for vectors of <paramref name="lanes"/> floats.</summary>
    public static int QueryBlock(int lanes) => VectorsPerTile * lanes;

    /// <summary>
    /// The fewest query rows for which <see cref="AttentionKernel.Auto"/> takes this kernel over the row-by-row one: half
    /// a block, or three eighths (24 rows) at 512 bits, where a block of at most two vectors of rows computes only those.
    /// Measured in one process, alternating, (12 heads, n = Nq = Nk): at 512 bits 24 to 31 rows ran 1.4–3.3× faster
    /// tiled (d 32 and 64), 16 to 20 rows mixed (0.6–1.4×); at 256 and 128 bits the half block stays (a lower
    /// threshold measured 0.3–0.7×).
    /// </summary>
    public static int AutoMinimumRows(int lanes) => lanes >= 16 ? 3 * QueryBlock(lanes) / 8 : QueryBlock(lanes) / 2;

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
    /// One query block of a work item: its rows, the keys they can see (<c>[KeyStart, KeyEnd)</c>, the union of the rows'
    /// key ranges, empty as 0..0), and its running state in scratch, laid out as <c>Qt [headDim][Bq]</c>,
    /// <c>Oᵀ [valueDim][Bq]</c>, then <c>m, l, alpha, m' [Bq]</c>.
    /// </summary>
    private readonly struct BlockState
    {
        public readonly int First, Rows, KeyStart, KeyEnd;
        public readonly float* Qt, Ot, M, L, Alpha, MNext;

        public BlockState(in AttentionProblem p, int first, int rows, KeyRange keys, int bq, float* state)
        {
            First = first;
            Rows = rows;
            KeyStart = keys.Start;
            KeyEnd = keys.End;
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

    /// <summary>The union of the key ranges of rows <c>[first, first + rows)</c>: <c>[min Start, max End)</c> over the rows that see a key.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static KeyRange RowsKeys<TMask>(in TMask mask, int first, int rows, int keyLength)
        where TMask : unmanaged, IAttentionMask<TMask>
    {
        if (TMask.HidesNothing)
        {
            return new KeyRange(0, keyLength);
        }

        int start = int.MaxValue, end = 0;
        for (int i = first; i < first + rows; i++)
        {
            KeyRange keys = mask.Keys(i);
            if (keys.Count > 0)
            {
                start = Math.Min(start, keys.Start);
                end = Math.Max(end, keys.End);
            }
        }

        return end == 0 ? default : new KeyRange(start, end);
    }

    /// <summary>
    /// The block's rows up to the last one that sees a key: trailing rows that see nothing (padded query rows past a
    /// sequence's query length) are left out of the block, so its tiles are not partial because of them and their
    /// query rows are not even read; the caller writes their zeros.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int SeenRows<TMask>(in TMask mask, int first, int rows)
        where TMask : unmanaged, IAttentionMask<TMask>
    {
        if (TMask.HidesNothing)
        {
            return rows;
        }

        while (rows > 0 && mask.Keys(first + rows - 1).Count == 0)
        {
            rows--;
        }

        return rows;
    }

    /// <summary>Computes query rows <c>[q0, q0 + SubBlocks·Bq)</c> (clipped to the query length) of head (batch, head) under <paramref name="mask"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunBlock<TV, TOps, TMask>(in AttentionProblem p, TMask mask, int batch, int head, int q0, Span<float> scratchSpan)
        where TV : struct where TOps : struct, IFloatVector<TV> where TMask : unmanaged, IAttentionMask<TMask>
    {
        int w = TOps.Count, bq = VectorsPerTile * w;
        int headDim = p.HeadDim, valueDim = p.ValueDim;
        int subBlocks = Math.Min(SubBlocks, (p.QueryLength - q0 + bq - 1) / bq);

        // Rows from paddedFrom on are padding in every head; head 0's items write their zeros for all heads at once.
        int paddedFrom = SharedPaddingStart(p, batch);
        if (head == 0)
        {
            ClearSharedPadding(p, batch, q0, Math.Min(subBlocks * bq, p.QueryLength - q0), paddedFrom);
        }

        // An item whose rows all see nothing (padded query rows) only writes zeros: no query row is read.
        if (!TMask.HidesNothing && SeenRows(mask, q0, Math.Min(subBlocks * bq, p.QueryLength - q0)) == 0)
        {
            for (int i = q0; i < q0 + subBlocks * bq && i < p.QueryLength; i++)
            {
                EmptyRow<TV, TOps>(p, batch, head, i, paddedFrom);
            }

            return;
        }

        fixed (float* scratch = scratchSpan)
        {
            float* st = scratch;                        // [KeyBlock][bq], shared by the blocks
            float* state = st + KeyBlock * bq;          // then each block's state
            Debug.Assert(scratchSpan.Length >= ScratchLength(bq, headDim, valueDim), "scratch shorter than ScratchLength");
            Debug.Assert(q0 >= 0 && q0 < p.QueryLength && batch < p.Batch && head < p.Heads, "work item outside the problem");
            int stateLength = (int)BlockState.Length(bq, headDim, valueDim);
            BlockState* blocks = stackalloc BlockState[SubBlocks];

            // A partial tile's key range per row, relative to the tile: row r sees tile keys lo[r] ≤ j < hi[r].
            float* lo = stackalloc float[bq];
            float* hi = stackalloc float[bq];

            // Its rectangles (TileRectangles): vector t's keys [vlo[t], vhi[t]), the rectangles, and the P·V factors.
            int* vlo = stackalloc int[VectorsPerTile];
            int* vhi = stackalloc int[VectorsPerTile];
            Rectangle* rects = stackalloc Rectangle[MaxRectangles];
            float* scale = stackalloc float[bq];
            nint queryStride = p.QueryRowStride;
            float* k = p.KeyHead(batch, head);
            float* v = p.ValueHead(batch, head);
            int keyStart = int.MaxValue, keyEnd = 0;
            float largestQuery = 0f;
            for (int b = 0; b < subBlocks; b++)
            {
                int first = q0 + b * bq, rows = SeenRows(mask, first, Math.Min(bq, p.QueryLength - first));
                blocks[b] = new BlockState(p, first, rows, RowsKeys(mask, first, rows, p.KeyLength), bq, state + b * stateLength);
                if (blocks[b].KeyEnd > 0)
                {
                    keyStart = Math.Min(keyStart, blocks[b].KeyStart);
                    keyEnd = Math.Max(keyEnd, blocks[b].KeyEnd);
                }

                // A block whose rows all see nothing (a padded tail) has no state: its zeros are written at the end.
                if (rows == 0)
                {
                    continue;
                }

                largestQuery = MathF.Max(largestQuery, Begin<TV, TOps>(p.QueryHead(batch, head) + blocks[b].First * queryStride, queryStride, blocks[b],
                                                                      (q0 + subBlocks * bq - blocks[b].First) * queryStride, headDim, valueDim, p.Scale));
            }

            // The float scores cannot overflow when every partial sum of q'·k is bounded: |Σ q'_c·k_c| ≤ headDim·max|q'|·max|k|.
            // Past that bound (inputs near 1e19 and up, or ±∞ in Q or K) the item's rows are computed exactly instead.
            // The two magnitude passes (Qt and K) are not free: together they measured about 5 % of the tiled kernel at
            // BERT-base and (12, 512, 512, 64) on a 256-bit machine, in one process against the build without them.
            // NaN inputs need no bound (they reach the output and are recomputed there).
            // A scale below 1 can also push q' = q·scale into float's subnormal range, where it keeps few bits; that
            // matters once keys are large enough to lift the lost bits into the score: headDim·max|k| > 2¹¹⁰ keeps the
            // loss under 2⁻⁴⁰ of a score otherwise.
            // Key blocks start at multiples of KeyBlock, whatever the mask, so a row's sums group its keys the same way
            // for every mask whose rows start at key 0 (a block whose rows start later, in a window, cuts its first tile
            // to its own keys below).
            keyStart = keyEnd == 0 ? 0 : keyStart / KeyBlock * KeyBlock;
            double keyBound = (double)headDim * LargestMagnitude<TV, TOps>(k + keyStart * p.KeyRowStride, headDim, p.KeyRowStride, keyEnd - keyStart);
            double bound = keyBound * largestQuery;
            if (!(bound < ScoreBound) || (p.Scale < 1f && !(keyBound <= KernelDispatch.ExactScaleBound)))
            {
                for (int i = q0; i < q0 + subBlocks * bq && i < p.QueryLength; i++)
                {
                    if (i < paddedFrom)
                    {
                        ExactRow.Compute(p, mask, batch, head, i);
                    }
                    else
                    {
                        OnlineSoftmax.WriteEmptyRow(p, batch, head, i);
                    }
                }

                return;
            }

            // Each key block is visited by every query block in turn while its K and V rows are still in cache.
            nint keyStride = p.KeyRowStride, valueStride = p.ValueRowStride;
            for (int j0 = keyStart; j0 < keyEnd; j0 += KeyBlock)
            {
                for (int b = 0; b < subBlocks; b++)
                {
                    ref readonly BlockState block = ref blocks[b];
                    if (j0 >= block.KeyEnd || j0 + KeyBlock <= block.KeyStart)
                    {
                        continue;
                    }

                    // The tile: the block's rows × keys [jt, jt + bk), the key block cut to the keys the block's rows see
                    // (a window's block starts inside it). Empty is skipped; full takes the running max as the scores
                    // are computed; partial is masked with −∞ first, per element, then folded into the max.
                    int jt = Math.Max(j0, block.KeyStart);
                    int bk = Math.Min(j0 + KeyBlock, block.KeyEnd) - jt;
                    TileVisibility tile = TMask.HidesNothing ? TileVisibility.Full : mask.Classify(block.First, block.Rows, jt, bk);
                    if (tile == TileVisibility.Empty)
                    {
                        continue;
                    }

                    // Only the vectors that hold the block's rows are computed (a short sequence, the last rows of a
                    // length); the lanes of the others stay untouched, and their rows are never written.
                    int vectors = (block.Rows + w - 1) / w;
                    float* kt = k + jt * keyStride, vt = v + jt * valueStride;
                    new Span<float>(block.M, bq).CopyTo(new Span<float>(block.MNext, bq));
                    if (tile == TileVisibility.Full)
                    {
                        // Score modifiers (softcap, ALiBi, a dense mask) change the scores after they are computed, so the
                        // max is folded after them, by a pass of its own; a score-only first step (the softcap) is applied
                        // to the score registers before they are stored and folded, so a tile with nothing else to modify
                        // still takes its max from the registers.
                        ScoresRun<TV, TOps, TMask>(mask, vectors, block.Qt, kt, keyStride, bk, headDim, st, TMask.ModifiesTileAfterLanes ? null : block.MNext);
                        if (TMask.ModifiesTileAfterLanes)
                        {
                            TMask.ModifyTileAfterLanes<TV, TOps>(mask, st, bq, block.First, block.Rows, jt, bk);
                            TileMax<TV, TOps>(st, bk, vectors, block.MNext);
                        }

                        OnlineSoftmax.StepColumns<TV, TOps>(st, bk, bq, vectors * w, block.M, block.MNext, block.L, block.Alpha);
                        Values<TV, TOps>(st, bk, vt, valueStride, valueDim, block.Alpha, block.Ot, vectors);
                        continue;
                    }

                    // A partial tile is computed in rectangles: each vector of rows only over the keys its rows see
                    // (TileRectangles), so a causal diagonal tile costs about its triangle, not its square. The entries
                    // left out are the ones the whole tile would mask to −∞ for every row of their vector: their weights
                    // are exactly 0 and their value rows are not read at all, so a non-finite value there cannot reach a
                    // row that does not see it. Inside a rectangle, a row that does not see a key whose value row is not
                    // finite takes 0·∞ = NaN; NeedsExact finds that row, and ExactRow, which reads only the keys the row
                    // sees, recomputes it.
                    TileRanges(mask, block.First, block.Rows, bq, jt, bk, lo, hi);
                    int rectangles = TileRectangles(lo, hi, block.Rows, w, vectors, vlo, vhi, rects);
                    for (int r = 0; r < rectangles; r++)
                    {
                        Rectangle x = rects[r];
                        ScoresRun<TV, TOps, TMask>(mask, x.Vectors, block.Qt + x.FirstVector * w, kt + x.KeyStart * keyStride, keyStride,
                                                   x.KeyEnd - x.KeyStart, headDim, st + x.KeyStart * bq + x.FirstVector * w, null);
                    }

                    if (TMask.ModifiesTileAfterLanes)
                    {
                        TMask.ModifyTileAfterLanes<TV, TOps>(mask, st, bq, block.First, block.Rows, jt, bk);
                    }

                    MaskTile<TV, TOps, TMask>(st, bk, mask, block.First, block.Rows, jt, lo, hi, vectors, vlo, vhi, block.MNext);

                    // Each vector's softmax step starts at an even key, so its pairs of partial sums take the same keys
                    // as the whole tile's would (the entry before an odd start is masked, so it adds 0).
                    for (int t = 0; t < vectors; t++)
                    {
                        int start = vlo[t] & ~1, offset = t * w;
                        OnlineSoftmax.StepColumns<TV, TOps>(st + start * bq + offset, vhi[t] - start, bq, w,
                                                            block.M + offset, block.MNext + offset, block.L + offset, block.Alpha + offset);
                    }

                    AccumulateRectangles<TV, TOps>(st, vt, valueStride, valueDim, block.Alpha, block.Ot, vectors, rects, rectangles, scale);
                }
            }

            for (int b = 0; b < subBlocks; b++)
            {
                ref readonly BlockState block = ref blocks[b];
                float* o = p.OutputHead(batch, head) + block.First * p.OutputRowStride;
                if (block.Rows > 0)
                {
                    Finish<TV, TOps>(p, block, batch, head, valueDim, o, p.OutputRowStride, block.MNext);
                }

                // The trailing rows SeenRows cut off see nothing: zeros.
                for (int r = block.Rows, all = Math.Min(bq, p.QueryLength - block.First); r < all; r++)
                {
                    EmptyRow<TV, TOps>(p, batch, head, block.First + r, paddedFrom);
                }

                // A row whose float scores left float's range (l < 1, or a non-finite output: NeedsExact's test, on the
                // flags Finish left in MNext) is recomputed exactly. A row that sees no key is zeros, which its output
                // already is unless a value row it does not see put 0·∞ into its rectangle.
                for (int r = 0; r < block.Rows; r++)
                {
                    if (block.L[r] >= 0.5f && !float.IsNaN(block.MNext[r]))
                    {
                        continue;
                    }

                    int i = block.First + r;
                    if (mask.Keys(i).Count > 0)
                    {
                        ExactRow.Compute(p, mask, batch, head, i);
                    }
                    else
                    {
                        new Span<float>(o + r * p.OutputRowStride, valueDim).Clear();
                    }
                }
            }
        }
    }

    /// <summary>
    /// Writes row i as one that sees no key: its zeros (unless it is shared padding, which <see cref="ClearSharedPadding"/>
    /// writes) and its log-sum-exp.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void EmptyRow<TV, TOps>(in AttentionProblem p, int batch, int head, int i, int paddedFrom)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        if (i < paddedFrom)
        {
            Zero<TV, TOps>(p.OutputHead(batch, head) + i * p.OutputRowStride, p.ValueDim);
        }

        OnlineSoftmax.WriteEmptyRow(p, batch, head, i);
    }

    /// <summary>
    /// The first query row of sequence <paramref name="batch"/> whose zeros <see cref="ClearSharedPadding"/> writes for
    /// every head: the sequence's query length where there are per-sequence query lengths (every row past it is
    /// padding in every head, whatever else masks it) and a row's heads lie side by side in the output (BSNH, row
    /// stride <c>Heads·ValueDim</c>); otherwise the query length itself, and each item writes its own zeros.
    /// </summary>
    private static int SharedPaddingStart(in AttentionProblem p, int batch) =>
        p.QueryLengths != null && p.OutputRowStride == (nint)p.Heads * p.ValueDim ? p.QueryLengths[batch] : p.QueryLength;

    /// <summary>
    /// Zeroes output rows <c>[max(q0, paddedFrom), q0 + rows)</c> of sequence <paramref name="batch"/> across every
    /// head, one contiguous run (head 0's item does it; the other heads' items leave those rows alone, so each output
    /// element still has exactly one writer). One memset writes whole cache lines without reading them first, where a
    /// store per head and row (256 bytes at d 64) reads each line in: <c>-- masks</c>' padded BERT batch (8 sequences of
    /// 16–128 tokens padded to 128, 12 heads × 64) measured 2,483 / 2,449 µs before, 2,282 / 2,332 after (AMD EPYC VM,
    /// 2026-12-07, alternating processes), and 8 sequences of 16 tokens 232 → 215 µs in one process.
    /// </summary>
    private static void ClearSharedPadding(in AttentionProblem p, int batch, int q0, int rows, int paddedFrom)
    {
        int from = Math.Max(q0, paddedFrom), to = q0 + rows;
        if (from < to)
        {
            System.Runtime.InteropServices.NativeMemory.Clear(p.OutputHead(batch, 0) + from * p.OutputRowStride,
                                                              (nuint)((to - from) * p.OutputRowStride) * sizeof(float));
        }
    }

    /// <summary>2¹²⁶: a bound on every partial score sum that leaves float's largest value (≈ 2¹²⁸) a factor of four of headroom.</summary>
    private const double ScoreBound = 8.507059173023462e37;

    /// <summary>
    /// x[0..count) = 0 with vector stores in line: the clears here are short (a padded output row, a block's Oᵀ lanes)
    /// and many (a padded BERT batch clears 5,376 rows of 64), where <c>Span.Clear</c>'s call took about 4 % of the call.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Zero<TV, TOps>(float* x, int count)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        nuint n = (nuint)count, w = (nuint)TOps.Count, c = 0;
        for (; c + w <= n; c += w)
        {
            TOps.Store(TOps.Zero, ref x[0], c);
        }

        for (; c < n; c++)
        {
            x[c] = 0f;
        }
    }

    /// <summary>The lanes of the vectors that hold <paramref name="rows"/> rows: rows rounded up to whole vectors of <paramref name="w"/>.</summary>
    private static int Lanes(int rows, int w) => (rows + w - 1) / w * w;

    /// <summary>
    /// The largest |x| over x: [rows, width] with row stride <paramref name="stride"/>. NaN may be skipped (the hardware
    /// maximum): callers bound overflow with it, and NaN reaches their output anyway. The running maximum and minimum of
    /// four columns of vectors are eight independent chains rather than one per sign, so the pass does not wait on the
    /// latency of a max: causal (12, 512, 512, 64) measured 1.3 % faster (Intel Xeon VM, 2026-12-06, two alternating
    /// process pairs); what the pass still costs, about 3 % there, is mostly K's first reads from memory.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float LargestMagnitude<TV, TOps>(float* x, int width, nint stride, int rows)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        nuint w = (nuint)TOps.Count, n = (nuint)width;
        TV h0 = TOps.Zero, h1 = TOps.Zero, h2 = TOps.Zero, h3 = TOps.Zero;
        TV l0 = TOps.Zero, l1 = TOps.Zero, l2 = TOps.Zero, l3 = TOps.Zero;
        float scalar = 0f;
        for (int r = 0; r < rows; r++)
        {
            ref float row = ref x[r * stride];
            nuint c = 0;
            for (; c + 4 * w <= n; c += 4 * w)
            {
                TV v0 = TOps.Load(ref row, c), v1 = TOps.Load(ref row, c + w), v2 = TOps.Load(ref row, c + 2 * w), v3 = TOps.Load(ref row, c + 3 * w);
                h0 = TOps.MaxNative(v0, h0);
                l0 = TOps.MinNative(v0, l0);
                h1 = TOps.MaxNative(v1, h1);
                l1 = TOps.MinNative(v1, l1);
                h2 = TOps.MaxNative(v2, h2);
                l2 = TOps.MinNative(v2, l2);
                h3 = TOps.MaxNative(v3, h3);
                l3 = TOps.MinNative(v3, l3);
            }

            for (; c + w <= n; c += w)
            {
                TV v0 = TOps.Load(ref row, c);
                h0 = TOps.MaxNative(v0, h0);
                l0 = TOps.MinNative(v0, l0);
            }

            for (; c < n; c++)
            {
                scalar = MathF.Max(scalar, MathF.Abs(Unsafe.Add(ref row, c)));
            }
        }

        return MathF.Max(scalar, Magnitude<TV, TOps>(h0, h1, h2, h3, l0, l1, l2, l3));
    }

    /// <summary>max(h0…h3, −min(l0…l3)) across the lanes: the largest magnitude from running maxima and minima.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Magnitude<TV, TOps>(TV h0, TV h1, TV h2, TV h3, TV l0, TV l1, TV l2, TV l3)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        TV high = TOps.MaxNative(TOps.MaxNative(h0, h1), TOps.MaxNative(h2, h3));
        TV low = TOps.MinNative(TOps.MinNative(l0, l1), TOps.MinNative(l2, l3));
        return TOps.MaxAcross(TOps.MaxNative(high, TOps.Subtract(TOps.Zero, low)));
    }

    /// <summary>
    /// Sets up one block's state over the vectors that hold its rows: <c>Qt[c][r] = q[r][c]·scale</c> (the last vector's
    /// lanes past the rows zero, so they stay finite and are simply not written out), Oᵀ = 0, m = −∞, l = 0; the vectors
    /// past the rows are never computed, so they are not touched. Each query row is read once per call, strided (heads
    /// interleaved), so it comes from far away; the rows <paramref name="prefetchDistance"/> floats on (the next work
    /// item's, or a harmless miss) are prefetched meanwhile.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Begin<TV, TOps>(float* q, nint queryStride, in BlockState block, nint prefetchDistance, int headDim, int valueDim, float scale)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        int bq = VectorsPerTile * TOps.Count, rows = block.Rows, lanes = Lanes(rows, TOps.Count);
        Transpose<TV, TOps>(q, queryStride, rows, headDim, block.Qt, bq);
        for (int r = 0; r < rows; r++)
        {
            Prefetch.Floats(q + r * queryStride + prefetchDistance, headDim);
        }

        // Only the vectors that hold rows are ever computed: the last one's lanes past the rows are zeroed, the
        // vectors after it are left alone.
        if (lanes > rows)
        {
            for (int c = 0; c < headDim; c++)
            {
                Zero<TV, TOps>(block.Qt + c * bq + rows, lanes - rows);
            }
        }

        float largest = ScaleAndMeasure<TV, TOps>(block.Qt, headDim, bq, lanes, TOps.Create(scale));
        if (lanes == bq)
        {
            Zero<TV, TOps>(block.Ot, valueDim * bq);
        }
        else
        {
            for (int c = 0; c < valueDim; c++)
            {
                Zero<TV, TOps>(block.Ot + c * bq, lanes);
            }
        }

        new Span<float>(block.M, bq).Fill(float.NegativeInfinity);
        new Span<float>(block.L, bq).Clear();
        return largest;
    }

    /// <summary>
    /// Writes one block's rows: <c>o[r][c] = Oᵀ[c][r] / l[r]</c>, a row that saw nothing (l = 0) as zeros. The inverses
    /// go where alpha was; Oᵀ is scaled in place and transposed out in register blocks. With sinks or a log-sum-exp
    /// output the inverse is <see cref="OnlineSoftmax.Close"/>'s, which adds the head's sink to the denominator.
    /// <paramref name="nonFinite"/>: [4·lanes], set to NaN for a row with a non-finite output, 0 otherwise.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Finish<TV, TOps>(in AttentionProblem p, in BlockState block, int batch, int head, int valueDim, float* o, nint outputStride, float* nonFinite)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        int w = TOps.Count, bq = VectorsPerTile * w;
        float* l = block.L, inverse = block.Alpha;
        if (p.Sinks == null && p.LogSumExp == null)
        {
            for (int r = 0; r < bq; r++)
            {
                inverse[r] = OnlineSoftmax.Inverse(l[r]);
            }
        }
        else
        {
            // The sink joins each row's denominator here, once per row; the log-sum-exp is that denominator's log.
            float sink = p.Sinks == null ? float.NegativeInfinity : p.Sinks[head];
            for (int r = 0; r < bq; r++)
            {
                float lse = OnlineSoftmax.Close(block.M[r], l[r], sink, out inverse[r]);
                if (p.LogSumExp != null && r < block.Rows)
                {
                    p.LogSumExp[p.LogSumExpIndex(batch, head, block.First + r)] = lse;
                }
            }
        }

        // Each vector of rows is scaled in place, and the products x·0 summed beside it: 0 for a row whose outputs are all
        // finite, NaN for one with a NaN or ±∞, so the finiteness check costs one FMA per vector on values in registers.
        for (int t = 0, lanes = Lanes(block.Rows, w); t < lanes; t += w)
        {
            TV factor = TOps.Load(ref inverse[0], (nuint)t), finite = TOps.Zero;
            float* column = block.Ot + t;
            for (int c = 0; c < valueDim; c++, column += bq)
            {
                TV x = TOps.Multiply(TOps.Load(ref column[0], 0), factor);
                TOps.Store(x, ref column[0], 0);
                finite = TOps.MultiplyAdd(x, TOps.Zero, finite);
            }

            TOps.Store(finite, ref nonFinite[0], (nuint)t);
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

    /// <summary>
    /// <c>x[i][t] *= factor</c> lane-wise for t &lt; <paramref name="lanes"/> over x: [count][stride], lanes a multiple of
    /// the lane count; returns the largest |x| of the scaled values (what <see cref="LargestMagnitude"/> would find after
    /// it, NaN may be skipped), taken from the registers the pass already holds rather than by a second pass over x.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float ScaleAndMeasure<TV, TOps>(float* x, int count, int stride, int lanes, TV factor)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        // A whole block's four vectors per row keep four maxima and four minima, independent chains (as LargestMagnitude).
        nuint w = (nuint)TOps.Count;
        TV h0 = TOps.Zero, h1 = TOps.Zero, h2 = TOps.Zero, h3 = TOps.Zero, l0 = TOps.Zero, l1 = TOps.Zero, l2 = TOps.Zero, l3 = TOps.Zero;
        for (int i = 0; i < count; i++)
        {
            ref float row = ref x[i * stride];
            nuint t = 0;
            if ((nuint)lanes == 4 * w)
            {
                TV s0 = TOps.Multiply(TOps.Load(ref row, 0), factor), s1 = TOps.Multiply(TOps.Load(ref row, w), factor);
                TV s2 = TOps.Multiply(TOps.Load(ref row, 2 * w), factor), s3 = TOps.Multiply(TOps.Load(ref row, 3 * w), factor);
                TOps.Store(s0, ref row, 0);
                TOps.Store(s1, ref row, w);
                TOps.Store(s2, ref row, 2 * w);
                TOps.Store(s3, ref row, 3 * w);
                h0 = TOps.MaxNative(s0, h0);
                l0 = TOps.MinNative(s0, l0);
                h1 = TOps.MaxNative(s1, h1);
                l1 = TOps.MinNative(s1, l1);
                h2 = TOps.MaxNative(s2, h2);
                l2 = TOps.MinNative(s2, l2);
                h3 = TOps.MaxNative(s3, h3);
                l3 = TOps.MinNative(s3, l3);
                continue;
            }

            for (; t < (nuint)lanes; t += w)
            {
                TV scaled = TOps.Multiply(TOps.Load(ref row, t), factor);
                TOps.Store(scaled, ref row, t);
                h0 = TOps.MaxNative(scaled, h0);
                l0 = TOps.MinNative(scaled, l0);
            }
        }

        return Magnitude<TV, TOps>(h0, h1, h2, h3, l0, l1, l2, l3);
    }

    /// <summary>
    /// Runs <see cref="Scores{TV, TOps, TMask, THeight}"/> for <paramref name="vectors"/> (1 to 4) vectors of rows, at the
    /// height that many; where the ISA has 16 registers (<see cref="FewRegisters"/>), as at most two at a time. qt, st and
    /// rowMax point at the first vector's lanes; rows keep their stride of 4·lanes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ScoresRun<TV, TOps, TMask>(in TMask mask, int vectors, float* qt, float* k, nint keyStride, int keyCount, int headDim, float* st, float* rowMax)
        where TV : struct where TOps : struct, IFloatVector<TV> where TMask : unmanaged, IAttentionMask<TMask>
    {
        int w = TOps.Count;
        if (FewRegisters && vectors > 2)
        {
            Scores<TV, TOps, TMask, Two>(mask, qt, k, keyStride, keyCount, headDim, st, rowMax);
            qt += 2 * w;
            st += 2 * w;
            rowMax = rowMax == null ? null : rowMax + 2 * w;
            vectors -= 2;
        }

        switch (vectors)
        {
            case 1: Scores<TV, TOps, TMask, One>(mask, qt, k, keyStride, keyCount, headDim, st, rowMax); break;
            case 2: Scores<TV, TOps, TMask, Two>(mask, qt, k, keyStride, keyCount, headDim, st, rowMax); break;
            case 3: Scores<TV, TOps, TMask, Three>(mask, qt, k, keyStride, keyCount, headDim, st, rowMax); break;
            default: Scores<TV, TOps, TMask, Four>(mask, qt, k, keyStride, keyCount, headDim, st, rowMax); break;
        }
    }

    /// <summary>
    /// Sᵀ[j][r] = Σ_c k[j][c]·Qt[c][r] for j &lt; keyCount and the <typeparamref name="THeight"/> vectors of rows r, and
    /// <c>rowMax[r] = max(rowMax[r], max_j Sᵀ[j][r])</c> unless rowMax is null: folding each register tile into the max
    /// saves a pass over Sᵀ. A 6-key × height micro-kernel (24 accumulators at height 4, each loaded vector feeding six
    /// FMAs). The mask's score-only first step (<see cref="IAttentionMask{TSelf}.ModifyLanes"/>: the softcap), if it has
    /// one, is applied to the accumulators before they are stored and folded. Every score is the same chain of FMAs over
    /// c whatever the height or the key's place in the tile, so a tile computed in rectangles has the whole tile's bits.
    /// qt: [headDim][4·lanes]; k: [keyCount, headDim] with row stride <paramref name="keyStride"/>; st: [keyCount][4·lanes];
    /// rowMax: [4·lanes] (each from the first vector's lanes).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Scores<TV, TOps, TMask, THeight>(in TMask mask, float* qt, float* k, nint keyStride, int keyCount, int headDim, float* st, float* rowMax)
        where TV : struct where TOps : struct, IFloatVector<TV> where TMask : unmanaged, IAttentionMask<TMask> where THeight : struct, ICount
    {
        int w = TOps.Count, bq = VectorsPerTile * w, n = THeight.Value;
        nuint o1 = (nuint)w, o2 = (nuint)(2 * w), o3 = (nuint)(3 * w);
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
                TV q0 = TOps.Load(ref qc[0], 0);
                TV q1 = n > 1 ? TOps.Load(ref qc[0], o1) : TOps.Zero, q2 = n > 2 ? TOps.Load(ref qc[0], o2) : TOps.Zero, q3 = n > 3 ? TOps.Load(ref qc[0], o3) : TOps.Zero;
                TV b = TOps.Create(k0[c]);
                a00 = TOps.MultiplyAdd(q0, b, a00); if (n > 1) a01 = TOps.MultiplyAdd(q1, b, a01); if (n > 2) a02 = TOps.MultiplyAdd(q2, b, a02); if (n > 3) a03 = TOps.MultiplyAdd(q3, b, a03);
                b = TOps.Create(k1[c]);
                a10 = TOps.MultiplyAdd(q0, b, a10); if (n > 1) a11 = TOps.MultiplyAdd(q1, b, a11); if (n > 2) a12 = TOps.MultiplyAdd(q2, b, a12); if (n > 3) a13 = TOps.MultiplyAdd(q3, b, a13);
                b = TOps.Create(k2[c]);
                a20 = TOps.MultiplyAdd(q0, b, a20); if (n > 1) a21 = TOps.MultiplyAdd(q1, b, a21); if (n > 2) a22 = TOps.MultiplyAdd(q2, b, a22); if (n > 3) a23 = TOps.MultiplyAdd(q3, b, a23);
                b = TOps.Create(k3[c]);
                a30 = TOps.MultiplyAdd(q0, b, a30); if (n > 1) a31 = TOps.MultiplyAdd(q1, b, a31); if (n > 2) a32 = TOps.MultiplyAdd(q2, b, a32); if (n > 3) a33 = TOps.MultiplyAdd(q3, b, a33);
                b = TOps.Create(k4[c]);
                a40 = TOps.MultiplyAdd(q0, b, a40); if (n > 1) a41 = TOps.MultiplyAdd(q1, b, a41); if (n > 2) a42 = TOps.MultiplyAdd(q2, b, a42); if (n > 3) a43 = TOps.MultiplyAdd(q3, b, a43);
                b = TOps.Create(k5[c]);
                a50 = TOps.MultiplyAdd(q0, b, a50); if (n > 1) a51 = TOps.MultiplyAdd(q1, b, a51); if (n > 2) a52 = TOps.MultiplyAdd(q2, b, a52); if (n > 3) a53 = TOps.MultiplyAdd(q3, b, a53);
            }

            float* s = st + j * bq;
            StoreRow<TV, TOps, THeight>(s, w, a00, a01, a02, a03);
            StoreRow<TV, TOps, THeight>(s + 1 * bq, w, a10, a11, a12, a13);
            StoreRow<TV, TOps, THeight>(s + 2 * bq, w, a20, a21, a22, a23);
            StoreRow<TV, TOps, THeight>(s + 3 * bq, w, a30, a31, a32, a33);
            StoreRow<TV, TOps, THeight>(s + 4 * bq, w, a40, a41, a42, a43);
            StoreRow<TV, TOps, THeight>(s + 5 * bq, w, a50, a51, a52, a53);
            if (TMask.ModifiesLanes)
            {
                ModifyLanes<TV, TOps, TMask>(mask, s, KeysPerTile, n, rowMax);
            }
            else if (rowMax != null)
            {
                FoldMax<TV, TOps>(rowMax, 0, a00, a10, a20, a30, a40, a50);
                if (n > 1) FoldMax<TV, TOps>(rowMax, o1, a01, a11, a21, a31, a41, a51);
                if (n > 2) FoldMax<TV, TOps>(rowMax, o2, a02, a12, a22, a32, a42, a52);
                if (n > 3) FoldMax<TV, TOps>(rowMax, o3, a03, a13, a23, a33, a43, a53);
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
                if (n > 1) a1 = TOps.MultiplyAdd(TOps.Load(ref qc[0], o1), b, a1);
                if (n > 2) a2 = TOps.MultiplyAdd(TOps.Load(ref qc[0], o2), b, a2);
                if (n > 3) a3 = TOps.MultiplyAdd(TOps.Load(ref qc[0], o3), b, a3);
            }

            StoreRow<TV, TOps, THeight>(st + j * bq, w, a0, a1, a2, a3);
            if (TMask.ModifiesLanes)
            {
                ModifyLanes<TV, TOps, TMask>(mask, st + j * bq, 1, n, rowMax);
            }
            else if (rowMax != null)
            {
                FoldMax<TV, TOps>(rowMax, 0, a0);
                if (n > 1) FoldMax<TV, TOps>(rowMax, o1, a1);
                if (n > 2) FoldMax<TV, TOps>(rowMax, o2, a2);
                if (n > 3) FoldMax<TV, TOps>(rowMax, o3, a3);
            }
        }
    }

    /// <summary>Rectangles one partial tile can split into: up to 2·4 key bounds make 7 key segments, each with at most two runs of vectors.</summary>
    private const int MaxRectangles = 16;

    /// <summary>
    /// A rectangle of a partial tile: tile keys <c>[KeyStart, KeyEnd)</c> × vectors of rows
    /// <c>[FirstVector, FirstVector + Vectors)</c>, computed by the score and P·V micro-kernels of that height.
    /// </summary>
    private readonly struct Rectangle(int keyStart, int keyEnd, int firstVector, int vectors)
    {
        public readonly int KeyStart = keyStart, KeyEnd = keyEnd, FirstVector = firstVector, Vectors = vectors;
    }

    /// <summary>
    /// Splits a partial tile into the rectangles it is computed in, in key order. Vector t of rows covers the union of
    /// its rows' ranges, <c>[vlo[t], vhi[t])</c> (0..0 when none of its rows sees a tile key); the distinct bounds
    /// cut the tile's keys into segments, and each segment is computed for the runs of consecutive vectors that cover it.
    /// A causal diagonal tile of four vectors gives four rectangles: all four vectors up to the first vector's last key,
    /// then the upper three, two, one.
    /// lo, hi: [4·lanes], the rows' ranges (<see cref="TileRanges"/>); vlo, vhi: [4]; rects: [<see cref="MaxRectangles"/>].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int TileRectangles(float* lo, float* hi, int rows, int w, int vectors, int* vlo, int* vhi, Rectangle* rects)
    {
        // The vectors' ranges and their distinct bounds, sorted (at most eight: insertion).
        int* bounds = stackalloc int[2 * VectorsPerTile];
        int boundCount = 0;
        for (int t = 0; t < vectors; t++)
        {
            int start = int.MaxValue, end = 0;
            for (int r = t * w, last = Math.Min(rows, r + w); r < last; r++)
            {
                if (hi[r] > lo[r])
                {
                    start = Math.Min(start, (int)lo[r]);
                    end = Math.Max(end, (int)hi[r]);
                }
            }

            vlo[t] = end == 0 ? 0 : start;
            vhi[t] = end;
            if (end > 0)
            {
                boundCount = InsertBound(bounds, boundCount, start);
                boundCount = InsertBound(bounds, boundCount, end);
            }
        }

        int count = 0;
        for (int s = 0; s + 1 < boundCount; s++)
        {
            int a = bounds[s], b = bounds[s + 1];
            for (int t = 0; t < vectors;)
            {
                if (vlo[t] > a || vhi[t] < b)
                {
                    t++;
                    continue;
                }

                int first = t;
                while (t < vectors && vlo[t] <= a && vhi[t] >= b)
                {
                    t++;
                }

                Debug.Assert(count < MaxRectangles, "more rectangles than MaxRectangles");
                rects[count++] = new Rectangle(a, b, first, t - first);
            }
        }

        return count;
    }

    /// <summary>Inserts <paramref name="bound"/> into the sorted distinct <c>bounds[..count)</c>; returns the new count.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int InsertBound(int* bounds, int count, int bound)
    {
        int at = 0;
        while (at < count && bounds[at] < bound)
        {
            at++;
        }

        if (at < count && bounds[at] == bound)
        {
            return count;
        }

        for (int i = count; i > at; i--)
        {
            bounds[i] = bounds[i - 1];
        }

        bounds[at] = bound;
        return count + 1;
    }

    /// <summary>
    /// <c>Oᵀ[c][r] = Oᵀ[c][r]·alpha[r] + Σ_j Pᵀ[j][r]·v[j][c]</c> over a partial tile's rectangles, in key order: each
    /// vector's accumulator is rescaled by its alpha in its first rectangle (the factor is 1 after that, which is
    /// exact), or on its own when it has none. pt: [keyCount][4·lanes];
    /// v: [keyCount, valueDim] with row stride <paramref name="valueStride"/>; alpha, scale: [4·lanes]; ot: [valueDim][4·lanes].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AccumulateRectangles<TV, TOps>(float* pt, float* v, nint valueStride, int valueDim, float* alpha, float* ot,
                                                       int vectors, Rectangle* rects, int rectangles, float* scale)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        int w = TOps.Count, bq = VectorsPerTile * w;
        new Span<float>(alpha, vectors * w).CopyTo(new Span<float>(scale, vectors * w));
        int rescaled = 0;
        for (int r = 0; r < rectangles; r++)
        {
            Rectangle x = rects[r];
            int offset = x.FirstVector * w;
            Values<TV, TOps>(pt + x.KeyStart * bq + offset, x.KeyEnd - x.KeyStart, v + x.KeyStart * valueStride, valueStride, valueDim,
                             scale + offset, ot + offset, x.Vectors);
            new Span<float>(scale + offset, x.Vectors * w).Fill(1f);
            rescaled |= ((1 << x.Vectors) - 1) << x.FirstVector;
        }

        // A vector none of whose rows sees a key of the tile still takes its factor (1 unless its max is −∞).
        for (int t = 0; t < vectors; t++)
        {
            if ((rescaled & (1 << t)) == 0)
            {
                TV factor = TOps.Load(ref alpha[0], (nuint)(t * w));
                float* column = ot + t * w;
                for (int c = 0; c < valueDim; c++, column += bq)
                {
                    TOps.Store(TOps.Multiply(TOps.Load(ref column[0], 0), factor), ref column[0], 0);
                }
            }
        }
    }

    /// <summary>
    /// The mask's score-only first step (<see cref="IAttentionMask{TSelf}.ModifyLanes"/>) over the register tile the
    /// score kernel has just stored, <c>Sᵀ[j][t·lanes + l]</c> for <c>j &lt; keys</c>, <c>t &lt; vectors</c>, still in L1,
    /// folded into rowMax unless it is null. A method of its own, not written into the score kernel per accumulator:
    /// 24 inlined softcaps exceed the JIT's inlining budget there, and the calls it then leaves measured 1.8× the
    /// unmasked time. st: rows of 4·lanes; rowMax: [4·lanes].
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void ModifyLanes<TV, TOps, TMask>(in TMask mask, float* st, int keys, int vectors, float* rowMax)
        where TV : struct where TOps : struct, IFloatVector<TV> where TMask : unmanaged, IAttentionMask<TMask>
    {
        // A copy in locals: read through the reference, the mask's fields would be reloaded after every store.
        TMask local = mask;
        int w = TOps.Count, bq = VectorsPerTile * w;
        for (int t = 0; t < vectors; t++)
        {
            nuint offset = (nuint)(t * w);
            TV max = rowMax == null ? TOps.Zero : TOps.Load(ref rowMax[0], offset);
            float* s = st;
            for (int j = 0; j < keys; j++, s += bq)
            {
                TV modified = TMask.ModifyLanes<TV, TOps>(local, TOps.Load(ref s[0], offset));
                TOps.Store(modified, ref s[0], offset);
                max = TOps.MaxNative(modified, max);
            }

            if (rowMax != null)
            {
                TOps.Store(max, ref rowMax[0], offset);
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

    /// <summary>
    /// <c>rowMax[r] = max(rowMax[r], max_j Sᵀ[j][r])</c> over a modified full tile's first <paramref name="vectors"/>
    /// vectors of rows. st: [keyCount][4·lanes]; rowMax: [4·lanes].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TileMax<TV, TOps>(float* st, int keyCount, int vectors, float* rowMax)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        int w = TOps.Count, bq = VectorsPerTile * w;
        for (int t = 0; t < vectors; t++)
        {
            nuint offset = (nuint)(t * w);
            TV max = TOps.Load(ref rowMax[0], offset);
            float* s = st;
            for (int j = 0; j < keyCount; j++, s += bq)
            {
                max = TOps.MaxNative(TOps.Load(ref s[0], offset), max);
            }

            TOps.Store(max, ref rowMax[0], offset);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FoldMax<TV, TOps>(float* rowMax, nuint offset, TV a)
        where TV : struct where TOps : struct, IFloatVector<TV> =>
        TOps.Store(TOps.MaxNative(a, TOps.Load(ref rowMax[0], offset)), ref rowMax[0], offset);

    /// <summary>
    /// The partial tile's key range per row, relative to the tile: <c>lo[r] ≤ j &lt; hi[r]</c> for rows r &lt; rows, an
    /// empty range for the padding lanes past them. lo, hi: [4·lanes].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TileRanges<TMask>(in TMask mask, int first, int rows, int bq, int j0, int keyCount, float* lo, float* hi)
        where TMask : unmanaged, IAttentionMask<TMask>
    {
        for (int r = 0; r < rows; r++)
        {
            KeyRange keys = mask.Keys(first + r).Within(j0, keyCount);
            lo[r] = keys.Start;
            hi[r] = keys.End;
        }

        for (int r = rows; r < bq; r++)
        {
            lo[r] = 0f;
            hi[r] = 0f;
        }
    }

    /// <summary>
    /// Masks a partial tile: <c>Sᵀ[j][r] = −∞</c> where row <c>first + r</c> does not see key <c>j0 + j</c> (outside
    /// <c>[lo[r], hi[r])</c>, or, for a mask that is not a range, where <see cref="IAttentionMask{TSelf}.IsVisible"/> says
    /// no), and folds the masked scores into rowMax. Lanes past <paramref name="rows"/> have empty ranges: masked whole.
    /// Vector t of rows is masked over its computed keys only, <c>[vlo[t] rounded down to even, vhi[t])</c>: the even
    /// start is the softmax step's (an entry before an odd vlo is below every row's lo there, so it becomes −∞).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MaskTile<TV, TOps, TMask>(float* st, int keyCount, in TMask mask, int first, int rows, int j0, float* lo, float* hi,
                                                  int vectors, int* vlo, int* vhi, float* rowMax)
        where TV : struct where TOps : struct, IFloatVector<TV> where TMask : unmanaged, IAttentionMask<TMask>
    {
        int w = TOps.Count, bq = VectorsPerTile * w;
        if (!TMask.IsRange)
        {
            // The per-element rule, by sub-tiles of SubTile rows × SubTile keys that the mask classifies first: a full one
            // is left alone, an empty one masked whole without asking, and only a partial one asked element by element
            // (a causal rule written per element asks about the diagonal's sub-tiles only). Keys then rows in memory
            // order (Sᵀ's rows are keys); each element only inside its row's range.
            for (int r0 = 0; r0 < rows; r0 += SubTile)
            {
                int rowsNow = Math.Min(SubTile, rows - r0);
                for (int k0 = 0; k0 < keyCount; k0 += SubTile)
                {
                    int keysNow = Math.Min(SubTile, keyCount - k0);
                    TileVisibility part = mask.Classify(first + r0, rowsNow, j0 + k0, keysNow);
                    if (part == TileVisibility.Full)
                    {
                        continue;
                    }

                    for (int j = k0; j < k0 + keysNow; j++)
                    {
                        float* s = st + j * bq;
                        for (int r = r0; r < r0 + rowsNow; r++)
                        {
                            if (j >= lo[r] && j < hi[r] && (part == TileVisibility.Empty || !mask.IsVisible(first + r, j0 + j)))
                            {
                                s[r] = float.NegativeInfinity;
                            }
                        }
                    }
                }
            }
        }

        TV minusInfinity = TOps.Create(float.NegativeInfinity);
        for (int t = 0; t < vectors; t++)
        {
            TV low = TOps.Load(ref lo[0], (nuint)(t * w)), high = TOps.Load(ref hi[0], (nuint)(t * w));
            TV max = TOps.Load(ref rowMax[0], (nuint)(t * w));
            int start = vlo[t] & ~1;
            Debug.Assert(!TMask.StartsAtZero || start == 0, "a mask that starts at key 0 has a vector starting later");
            float* s = st + start * bq + t * w;
            for (int j = start; j < vhi[t]; j++, s += bq)
            {
                TV key = TOps.Create(j);
                TV masked = TOps.SelectWhereLess(key, high, TOps.Load(ref s[0], 0), minusInfinity);
                if (!TMask.StartsAtZero)
                {
                    masked = TOps.SelectWhereLess(key, low, minusInfinity, masked);
                }

                TOps.Store(masked, ref s[0], 0);
                max = TOps.MaxNative(masked, max);
            }

            TOps.Store(max, ref rowMax[0], (nuint)(t * w));
        }
    }

    /// <summary>
    /// <c>Oᵀ[c][r] = Oᵀ[c][r]·scale[r] + Σ_j Pᵀ[j][r]·v[j][c]</c> for j &lt; keyCount and the first
    /// <paramref name="vectors"/> (1 to 4) vectors of rows, by register tiles of 6 channels (2 where the ISA has 16
    /// registers) × that many vectors. pt, scale and ot point at the first vector's lanes, with rows of 4·lanes;
    /// v: [keyCount, valueDim] with row stride <paramref name="valueStride"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Values<TV, TOps>(float* pt, int keyCount, float* v, nint valueStride, int valueDim, float* scale, float* ot, int vectors)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        switch (vectors)
        {
            case 1: Values<TV, TOps, One>(pt, keyCount, v, valueStride, valueDim, scale, ot); break;
            case 2: Values<TV, TOps, Two>(pt, keyCount, v, valueStride, valueDim, scale, ot); break;
            case 3: Values<TV, TOps, Three>(pt, keyCount, v, valueStride, valueDim, scale, ot); break;
            default: Values<TV, TOps, Four>(pt, keyCount, v, valueStride, valueDim, scale, ot); break;
        }
    }

    /// <summary><see cref="Values{TV, TOps}"/> at the height <typeparamref name="THeight"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Values<TV, TOps, THeight>(float* pt, int keyCount, float* v, nint valueStride, int valueDim, float* scale, float* ot)
        where TV : struct where TOps : struct, IFloatVector<TV> where THeight : struct, ICount
    {
        int bq = VectorsPerTile * TOps.Count, c = 0;
        for (; !FewRegisters && c + 6 <= valueDim; c += 6)
        {
            ChannelTile6<TV, TOps, THeight>(pt, keyCount, v + c, valueStride, scale, ot + c * bq);
        }

        for (; c + 2 <= valueDim; c += 2)
        {
            ChannelTile2<TV, TOps, THeight>(pt, keyCount, v + c, valueStride, scale, ot + c * bq);
        }

        if (c < valueDim)
        {
            ChannelTile2<TV, TOps, THeight>(pt, keyCount, v + c, valueStride, scale, ot + c * bq, single: true);
        }
    }

    /// <summary><c>column[offset..]·scale</c> when <paramref name="load"/> (a JIT-time constant at every caller), else 0: an accumulator's start.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Rescaled<TV, TOps>(float* column, nuint offset, TV scale, bool load)
        where TV : struct where TOps : struct, IFloatVector<TV> =>
        load ? TOps.Multiply(TOps.Load(ref column[0], offset), scale) : TOps.Zero;

    /// <summary>Stores the first <typeparamref name="THeight"/> vectors of a 4-vector row of accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow<TV, TOps, THeight>(float* destination, int w, TV a0, TV a1, TV a2, TV a3)
        where TV : struct where TOps : struct, IFloatVector<TV> where THeight : struct, ICount
    {
        TOps.Store(a0, ref destination[0], 0);
        if (THeight.Value > 1) TOps.Store(a1, ref destination[0], (nuint)w);
        if (THeight.Value > 2) TOps.Store(a2, ref destination[0], (nuint)(2 * w));
        if (THeight.Value > 3) TOps.Store(a3, ref destination[0], (nuint)(3 * w));
    }

    /// <summary>
    /// The 6-channel × height P·V tile (24 accumulators at height 4): channels c &lt; 6 of Oᵀ, rescaled by scale, plus
    /// keys j &lt; keyCount, for the first <typeparamref name="THeight"/> vectors of rows.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ChannelTile6<TV, TOps, THeight>(float* pt, int keyCount, float* v, nint valueStride, float* scale, float* ot)
        where TV : struct where TOps : struct, IFloatVector<TV> where THeight : struct, ICount
    {
        int w = TOps.Count, bq = VectorsPerTile * w, n = THeight.Value;
        nuint o1 = (nuint)w, o2 = (nuint)(2 * w), o3 = (nuint)(3 * w);
        TV s0 = TOps.Load(ref scale[0], 0), s1 = n > 1 ? TOps.Load(ref scale[0], o1) : TOps.Zero;
        TV s2 = n > 2 ? TOps.Load(ref scale[0], o2) : TOps.Zero, s3 = n > 3 ? TOps.Load(ref scale[0], o3) : TOps.Zero;
        float* c0 = ot, c1 = c0 + bq, c2 = c1 + bq, c3 = c2 + bq, c4 = c3 + bq, c5 = c4 + bq;
        TV a00 = Rescaled<TV, TOps>(c0, 0, s0, true), a01 = Rescaled<TV, TOps>(c0, o1, s1, n > 1), a02 = Rescaled<TV, TOps>(c0, o2, s2, n > 2), a03 = Rescaled<TV, TOps>(c0, o3, s3, n > 3);
        TV a10 = Rescaled<TV, TOps>(c1, 0, s0, true), a11 = Rescaled<TV, TOps>(c1, o1, s1, n > 1), a12 = Rescaled<TV, TOps>(c1, o2, s2, n > 2), a13 = Rescaled<TV, TOps>(c1, o3, s3, n > 3);
        TV a20 = Rescaled<TV, TOps>(c2, 0, s0, true), a21 = Rescaled<TV, TOps>(c2, o1, s1, n > 1), a22 = Rescaled<TV, TOps>(c2, o2, s2, n > 2), a23 = Rescaled<TV, TOps>(c2, o3, s3, n > 3);
        TV a30 = Rescaled<TV, TOps>(c3, 0, s0, true), a31 = Rescaled<TV, TOps>(c3, o1, s1, n > 1), a32 = Rescaled<TV, TOps>(c3, o2, s2, n > 2), a33 = Rescaled<TV, TOps>(c3, o3, s3, n > 3);
        TV a40 = Rescaled<TV, TOps>(c4, 0, s0, true), a41 = Rescaled<TV, TOps>(c4, o1, s1, n > 1), a42 = Rescaled<TV, TOps>(c4, o2, s2, n > 2), a43 = Rescaled<TV, TOps>(c4, o3, s3, n > 3);
        TV a50 = Rescaled<TV, TOps>(c5, 0, s0, true), a51 = Rescaled<TV, TOps>(c5, o1, s1, n > 1), a52 = Rescaled<TV, TOps>(c5, o2, s2, n > 2), a53 = Rescaled<TV, TOps>(c5, o3, s3, n > 3);

        float* pj = pt, vj = v;
        for (int j = 0; j < keyCount; j++, pj += bq, vj += valueStride)
        {
            TV p0 = TOps.Load(ref pj[0], 0), p1 = n > 1 ? TOps.Load(ref pj[0], o1) : TOps.Zero;
            TV p2 = n > 2 ? TOps.Load(ref pj[0], o2) : TOps.Zero, p3 = n > 3 ? TOps.Load(ref pj[0], o3) : TOps.Zero;
            TV b = TOps.Create(vj[0]);
            a00 = TOps.MultiplyAdd(p0, b, a00); if (n > 1) a01 = TOps.MultiplyAdd(p1, b, a01); if (n > 2) a02 = TOps.MultiplyAdd(p2, b, a02); if (n > 3) a03 = TOps.MultiplyAdd(p3, b, a03);
            b = TOps.Create(vj[1]);
            a10 = TOps.MultiplyAdd(p0, b, a10); if (n > 1) a11 = TOps.MultiplyAdd(p1, b, a11); if (n > 2) a12 = TOps.MultiplyAdd(p2, b, a12); if (n > 3) a13 = TOps.MultiplyAdd(p3, b, a13);
            b = TOps.Create(vj[2]);
            a20 = TOps.MultiplyAdd(p0, b, a20); if (n > 1) a21 = TOps.MultiplyAdd(p1, b, a21); if (n > 2) a22 = TOps.MultiplyAdd(p2, b, a22); if (n > 3) a23 = TOps.MultiplyAdd(p3, b, a23);
            b = TOps.Create(vj[3]);
            a30 = TOps.MultiplyAdd(p0, b, a30); if (n > 1) a31 = TOps.MultiplyAdd(p1, b, a31); if (n > 2) a32 = TOps.MultiplyAdd(p2, b, a32); if (n > 3) a33 = TOps.MultiplyAdd(p3, b, a33);
            b = TOps.Create(vj[4]);
            a40 = TOps.MultiplyAdd(p0, b, a40); if (n > 1) a41 = TOps.MultiplyAdd(p1, b, a41); if (n > 2) a42 = TOps.MultiplyAdd(p2, b, a42); if (n > 3) a43 = TOps.MultiplyAdd(p3, b, a43);
            b = TOps.Create(vj[5]);
            a50 = TOps.MultiplyAdd(p0, b, a50); if (n > 1) a51 = TOps.MultiplyAdd(p1, b, a51); if (n > 2) a52 = TOps.MultiplyAdd(p2, b, a52); if (n > 3) a53 = TOps.MultiplyAdd(p3, b, a53);
        }

        StoreRow<TV, TOps, THeight>(c0, w, a00, a01, a02, a03);
        StoreRow<TV, TOps, THeight>(c1, w, a10, a11, a12, a13);
        StoreRow<TV, TOps, THeight>(c2, w, a20, a21, a22, a23);
        StoreRow<TV, TOps, THeight>(c3, w, a30, a31, a32, a33);
        StoreRow<TV, TOps, THeight>(c4, w, a40, a41, a42, a43);
        StoreRow<TV, TOps, THeight>(c5, w, a50, a51, a52, a53);
    }

    /// <summary>
    /// The 2-channel × height P·V tile (8 accumulators at height 4: the widest for 16 registers, elsewhere the tail of
    /// the 6-channel one); with <paramref name="single"/> only channel 0.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ChannelTile2<TV, TOps, THeight>(float* pt, int keyCount, float* v, nint valueStride, float* scale, float* ot, bool single = false)
        where TV : struct where TOps : struct, IFloatVector<TV> where THeight : struct, ICount
    {
        int w = TOps.Count, bq = VectorsPerTile * w, n = THeight.Value;
        nuint o1 = (nuint)w, o2 = (nuint)(2 * w), o3 = (nuint)(3 * w);
        TV s0 = TOps.Load(ref scale[0], 0), s1 = n > 1 ? TOps.Load(ref scale[0], o1) : TOps.Zero;
        TV s2 = n > 2 ? TOps.Load(ref scale[0], o2) : TOps.Zero, s3 = n > 3 ? TOps.Load(ref scale[0], o3) : TOps.Zero;
        float* c0 = ot, c1 = single ? c0 : c0 + bq;
        nint second = single ? 0 : 1;
        TV a00 = Rescaled<TV, TOps>(c0, 0, s0, true), a01 = Rescaled<TV, TOps>(c0, o1, s1, n > 1), a02 = Rescaled<TV, TOps>(c0, o2, s2, n > 2), a03 = Rescaled<TV, TOps>(c0, o3, s3, n > 3);
        TV a10 = Rescaled<TV, TOps>(c1, 0, s0, true), a11 = Rescaled<TV, TOps>(c1, o1, s1, n > 1), a12 = Rescaled<TV, TOps>(c1, o2, s2, n > 2), a13 = Rescaled<TV, TOps>(c1, o3, s3, n > 3);
        float* pj = pt, vj = v;
        for (int j = 0; j < keyCount; j++, pj += bq, vj += valueStride)
        {
            TV p0 = TOps.Load(ref pj[0], 0), p1 = n > 1 ? TOps.Load(ref pj[0], o1) : TOps.Zero;
            TV p2 = n > 2 ? TOps.Load(ref pj[0], o2) : TOps.Zero, p3 = n > 3 ? TOps.Load(ref pj[0], o3) : TOps.Zero;
            TV b = TOps.Create(vj[0]);
            a00 = TOps.MultiplyAdd(p0, b, a00); if (n > 1) a01 = TOps.MultiplyAdd(p1, b, a01); if (n > 2) a02 = TOps.MultiplyAdd(p2, b, a02); if (n > 3) a03 = TOps.MultiplyAdd(p3, b, a03);
            b = TOps.Create(vj[second]);
            a10 = TOps.MultiplyAdd(p0, b, a10); if (n > 1) a11 = TOps.MultiplyAdd(p1, b, a11); if (n > 2) a12 = TOps.MultiplyAdd(p2, b, a12); if (n > 3) a13 = TOps.MultiplyAdd(p3, b, a13);
        }

        if (!single)
        {
            StoreRow<TV, TOps, THeight>(c1, w, a10, a11, a12, a13);
        }

        StoreRow<TV, TOps, THeight>(c0, w, a00, a01, a02, a03);
    }
}
