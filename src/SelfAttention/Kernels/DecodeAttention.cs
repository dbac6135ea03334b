using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using SelfAttention.Kernels.Masks;

namespace SelfAttention.Kernels;

/// <summary>
/// Attention for a few query rows against many keys (decoding against a KV cache). This is memory-bound: every key
/// and value is used once per query row, so the measure is how close reading K and V gets to streaming speed.
/// <para>
/// In a BSNH buffer one key row holds every kv head side by side, so the kernel walks keys in memory order and, for
/// each key row, serves every kv head of its chunk from one contiguous run: K and V are each read exactly once, in
/// order. Each (query head, query row) pair is a lane with its own online-softmax state (running max m, sum l and an
/// output accumulator), updated once per block of <see cref="KeyBlock"/> keys: scores for the block, then
/// <c>m' = max(m, rowMax)</c>, the accumulator and l rescaled by <c>e^(m − m')</c>, then the block's
/// <c>e^(s − m')</c>-weighted value rows added.
/// </para>
/// <para>
/// The lanes of one kv head (its <c>GroupSize</c> query heads times the query rows: grouped-query and multi-query
/// attention, speculative decoding) all read the same key and value rows, so they are served together, four lanes
/// per kernel where there are four (then two, then one): scores four lanes × four key rows at 512 bits (sixteen
/// accumulators reduced by one tree, <see cref="Vector512Ops.SumsOfSixteen"/>) and four lanes × two key rows at the
/// narrower widths, whose 16 registers hold eight accumulators and two key vectors, the query vectors as FMA operands; values four lanes × two vectors of accumulators held in registers
/// across the eight rows of a group, so each loaded key or value vector feeds four FMAs. With one lane per kv head
/// (multi-head attention) the one-lane kernels stream eight rows side by side, each query vector feeding eight FMAs.
/// Where a kv head's slice is only part of a row (every layout but multi-query), the kernels fetch each slice
/// <see cref="FetchDistance"/> rows ahead into L2 themselves (<see cref="FetchesAhead"/>): the hardware prefetchers
/// work within a page and retrain on every row.
/// </para>
/// <para>
/// Storage (<see cref="KvCacheStorage"/>): every kernel is generic over an <see cref="IStoredFormat"/> and widens
/// Half, BFloat16 and Int8 in registers as it loads (<see cref="Widen.HalfVector{TV}"/>, or <see cref="Widen.HalfFiniteVector{TV}"/>
/// in four operations instead of nine when the cache holds no ±∞/NaN, <see cref="Widen.BFloat16Vector{TV}"/>,
/// <see cref="Widen.Int8Vector{TV}"/> times the block scale): memory sees only the stored bytes, and nothing is
/// widened into a buffer of the cache. Where one kv head serves two or more four-lane groups (multi-query attention),
/// the groups would each widen the same rows, so its eight rows are widened once into an L1 tile instead
/// (<see cref="WidensOnce"/>; measured at 32 query heads over 1 kv head, 4096 tokens, d 128: Half 1.34×, Int8 1.33×,
/// BFloat16 1.11× faster than widening per group).
/// </para>
/// <para>
/// Score modifiers (softcap, ALiBi, dense masks: <see cref="Masks.IAttentionMask{TSelf}.ModifiesScores"/>) rewrite each
/// lane's block of scores after the overflow test and before its online-softmax step; sinks join each row's
/// denominator and the log-sum-exp is written when the row closes (<see cref="OnlineSoftmax.Close"/>).
/// </para>
/// <para>
/// Masks (<see cref="Masks.IAttentionMask{TSelf}"/>): the chunk reads only the key blocks inside the union of its lanes'
/// key ranges (per-sequence lengths: a sequence's own length, so the work is proportional to it); each lane's softmax
/// and value sums take the keys of its own range (and, for a mask that is not a range, only the visible ones),
/// through <see cref="OnlineSoftmax.StepRow{TV, TOps}"/>.
/// </para>
/// <para>
/// Scratch per work item (floats): scores <c>[lanes][KeyBlock]</c>, accumulators <c>[lanes][valueDim]</c>, then m and l
/// <c>[lanes]</c> each, with <c>lanes = kvHeadsInChunk · groupSize · queryLength</c>, then for a low-precision cache the
/// widened tile <c>[8][max(headDim, valueDim)]</c>.
/// </para>
/// </summary>
internal static unsafe class DecodeAttention
{
    /// <summary>The longest query this kernel takes; beyond it K and V are reused enough for the tiled kernel.</summary>
    public const int MaxQueryLength = 8;

    /// <summary>Whether this kernel can run a call: softmax over at most <see cref="MaxQueryLength"/> query rows (it is the one kernel that reads low-precision keys and values).</summary>
    public static bool ServesInPlace(int queryLength, in AttentionOptions options) =>
        queryLength <= MaxQueryLength && options.Normalization == AttentionNormalization.Softmax;

    /// <summary>Keys per online-softmax step.</summary>
    public const int KeyBlock = 64;

    /// <summary>
    /// Whether the kernels fetch rows ahead themselves: where a kv head's slice (<paramref name="headBytes"/>) is only
    /// part of a row of <paramref name="rowBytes"/>, so a pass reads short runs far apart (512 bytes every 4 KiB in a
    /// float cache of 8 kv heads × 128, every 16 KiB at 32 heads) and the hardware prefetchers, which work within a
    /// page, see a new stream on every row. Multi-query rows are one contiguous stream and are left to the hardware.
    /// Measured on an AMD EPYC (Zen 5) VM, (32 heads, 4096 tokens, d 128), one thread, against fetching only where
    /// several heads share a page: float grouped-query (8 kv heads) 1.55× faster, multi-head 1.23×, Half and BFloat16
    /// grouped-query 1.6–1.75×. On the Intel VM of 2026-12-03, fetching float rows into L1 two groups ahead measured
    /// 10–13 % slower: 16 rows of 4 KiB are 64 KiB ahead, more than L1 holds, so the rows were evicted before their use
    /// (here too: into L1 it measured 1.4× slower than no fetch for multi-head), which is why the fetches go to L2.
    /// <para>
    /// Except on Intel for slices of 512 bytes or more in rows longer than a page (float multi-head attention): on the
    /// Intel Xeon VM of 2026-12-06 (2 MiB L2, 300 MiB L3; <c>-- cache</c>, five alternating process pairs, medians), the
    /// L2 fetches made (32 heads, 4096 tokens, d 128) float multi-head decode slower, one thread 9,471 against 7,065 µs
    /// without them (1.34×), two threads 4,238 against 3,308 (1.28×), a ragged batch of 8 sequences 41.0 against
    /// 32.4 ms (1.27×). Its L2 streamer follows those runs by itself; that each software fetch also holds one of the
    /// L1 fill buffers the demand loads need is the likely cost, not measured. Grouped-query float (rows of one page)
    /// keeps them: without, one sequence ran 1.13× faster but the ragged batch 1.1× slower; low-precision slices (256
    /// bytes or less) keep them too.
    /// </para>
    /// </summary>
    private static bool FetchesAhead(nint rowBytes, nint headBytes) =>
        headBytes < rowBytes && !(Prefetch.IsIntel && headBytes >= 512 && rowBytes > PageBytes);

    /// <summary>Bytes in a (small) page, the span within which hardware prefetchers follow a stream.</summary>
    private const int PageBytes = 4096;

    /// <summary>
    /// Rows ahead that <see cref="FetchRows"/> fetches: four kernels' worth, which covers memory latency at the read rate
    /// (measured, grouped-query float, fetches into L2: 16 rows 1,483 µs, 32 rows 1,480, 64 rows 2,187 as the fetched rows
    /// start to crowd L2; multi-head 6,083, 5,646 and 6,148).
    /// </summary>
    private const int FetchDistance = 4 * RowGroup;

    /// <summary>Fetches into L2 the kv head slice (<paramref name="headBytes"/>) of the eight rows <see cref="FetchDistance"/> rows after <paramref name="rows"/>'s first (past the cache's end: harmless).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FetchRows(Rows rows, nint headBytes)
    {
        byte* first = rows.First + FetchDistance * rows.Stride;
        for (int r = 0; r < RowGroup; r++)
        {
            Prefetch.ToL2((float*)(first + r * rows.Stride), (int)((headBytes + sizeof(float) - 1) / sizeof(float)));
        }
    }

    /// <summary>Key rows per kernel call per kv head (read side by side).</summary>
    private const int RowGroup = 8;

    /// <summary>Kv heads per work item: enough for long contiguous runs, few enough to share the heads among threads.</summary>
    public static int KvHeadsPerItem(in AttentionProblem p, int degree) =>
        Math.Max(1, (p.Heads / p.GroupSize + degree - 1) / degree);

    /// <summary>Scratch floats one work item of <paramref name="kvHeadsPerItem"/> kv heads needs (in long: it can pass <see cref="int.MaxValue"/> for valid shapes).</summary>
    public static long ScratchLength(in AttentionProblem p, int kvHeadsPerItem)
    {
        long lanes = (long)kvHeadsPerItem * p.GroupSize * p.QueryLength;
        long tile = p.Storage == KvCacheStorage.Single ? 0 : (long)RowGroup * Math.Max(p.HeadDim, p.ValueDim);
        return lanes * (KeyBlock + (long)p.ValueDim + 2) + tile;
    }

    /// <summary>
    /// Whether a kv head's eight stored rows are widened once into an L1 tile rather than in registers by each kernel:
    /// a low-precision cache whose kv head serves two or more four-lane groups (multi-query attention; grouped-query with
    /// eight or more lanes per kv head), which would otherwise widen the same rows once per group.
    /// </summary>
    private static bool WidensOnce<TF>(int lanesPerKvHead) where TF : struct, IStoredFormat =>
        typeof(TF) != typeof(SingleFormat) && lanesPerKvHead >= 8;

    /// <summary>Computes every query row of the query heads that read kv heads <c>[firstKvHead, firstKvHead + kvHeadCount)</c>.</summary>
    public static void RunChunk<TV, TOps, TMask>(in AttentionProblem p, TMask mask, int batch, int firstKvHead, int kvHeadCount, Span<float> scratchSpan)
        where TV : struct where TOps : struct, IFloatVector<TV> where TMask : unmanaged, IAttentionMask<TMask>
    {
        switch (p.Storage)
        {
            case KvCacheStorage.Half when p.StoredFinite:
                RunChunk<TV, TOps, TMask, HalfFiniteFormat>(p, mask, batch, firstKvHead, kvHeadCount, scratchSpan);
                break;
            case KvCacheStorage.Half:
                RunChunk<TV, TOps, TMask, HalfFormat>(p, mask, batch, firstKvHead, kvHeadCount, scratchSpan);
                break;
            case KvCacheStorage.BFloat16:
                RunChunk<TV, TOps, TMask, BFloat16Format>(p, mask, batch, firstKvHead, kvHeadCount, scratchSpan);
                break;
            case KvCacheStorage.Int8:
                RunChunk<TV, TOps, TMask, Int8Format>(p, mask, batch, firstKvHead, kvHeadCount, scratchSpan);
                break;
            default:
                RunChunk<TV, TOps, TMask, SingleFormat>(p, mask, batch, firstKvHead, kvHeadCount, scratchSpan);
                break;
        }
    }

    /// <summary>One kv head's stored rows: the first row's bytes, the row stride in bytes, and (Int8) the first row's scales and the scale row stride.</summary>
    private readonly struct Rows
    {
        public readonly byte* First;
        public readonly nint Stride;
        public readonly float* Scales;
        public readonly nint ScaleStride;

        public Rows(byte* first, nint stride, float* scales, nint scaleStride)
        {
            First = first;
            Stride = stride;
            Scales = scales;
            ScaleStride = scaleStride;
        }

        /// <summary>Row j (relative to the first).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Rows At(int j) => new(First + j * Stride, Stride, Scales + j * ScaleStride, ScaleStride);

        /// <summary>The same rows, <paramref name="bytes"/> and <paramref name="scales"/> further along each (another kv head of them).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Rows Shifted(nint bytes, nint scales) => new(First + bytes, Stride, Scales + scales, ScaleStride);
    }

    /// <summary>Kv head <paramref name="kvHead"/>'s keys (or values) of batch entry <paramref name="batch"/>, from row 0.</summary>
    private static Rows HeadRows<TF>(in AttentionProblem p, bool key, int batch, int kvHead)
        where TF : struct, IStoredFormat
    {
        int width = key ? p.HeadDim : p.ValueDim;
        nint rowStride = key ? p.KeyRowStride : p.ValueRowStride;
        nint element = (key ? p.KeyBatchStride : p.ValueBatchStride) * batch + (nint)kvHead * width;
        byte* origin = typeof(TF) == typeof(SingleFormat) ? (byte*)(key ? p.Key : p.Value) : (byte*)(key ? p.KeyStored : p.ValueStored);
        float* scales = typeof(TF) == typeof(Int8Format) ? Widen.ScalesOf(p, key, batch, kvHead, 0) : null;
        nint scaleStride = typeof(TF) == typeof(Int8Format) ? Widen.ScaleRowStride(p, key) : 0;
        return new Rows(origin + element * TF.ElementSize, rowStride * TF.ElementSize, scales, scaleStride);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunChunk<TV, TOps, TMask, TF>(in AttentionProblem p, TMask mask, int batch, int firstKvHead, int kvHeadCount, Span<float> scratchSpan)
        where TV : struct where TOps : struct, IFloatVector<TV> where TMask : unmanaged, IAttentionMask<TMask> where TF : struct, IStoredFormat
    {
        int queryLength = p.QueryLength, keyLength = p.KeyLength, headDim = p.HeadDim, valueDim = p.ValueDim, group = p.GroupSize;
        int lanesPerKvHead = group * queryLength, lanes = kvHeadCount * lanesPerKvHead;
        int firstHead = firstKvHead * group;
        Debug.Assert(scratchSpan.Length >= ScratchLength(p, kvHeadCount), "scratch shorter than ScratchLength");
        Debug.Assert(queryLength is > 0 and <= MaxQueryLength && firstKvHead + kvHeadCount <= p.Heads / group, "chunk outside the problem");
        bool wholeVectors = headDim % TOps.Count == 0;
        fixed (float* scratch = scratchSpan)
        {
            float* scores = scratch;                        // [lanes][KeyBlock]
            float* acc = scores + lanes * KeyBlock;          // [lanes][valueDim]
            float* m = acc + lanes * valueDim;               // [lanes]
            float* l = m + lanes;                            // [lanes]
            float* tile = l + lanes;                         // [RowGroup][max(headDim, valueDim)] when WidensOnce
            new Span<float>(acc, lanes * valueDim).Clear();
            new Span<float>(m, lanes).Fill(float.NegativeInfinity);
            new Span<float>(l, lanes).Clear();

            // Lane (g, t, i) = (g·group + t)·queryLength + i: kv head firstKvHead + g, query head firstHead + g·group + t, query row i.
            // Kv heads of a chunk are adjacent in a row, so head g's rows are head 0's moved by g·width elements.
            Rows keys0 = HeadRows<TF>(p, key: true, batch, firstKvHead), values0 = HeadRows<TF>(p, key: false, batch, firstKvHead);
            nint keyHeadBytes = (nint)headDim * TF.ElementSize, valueHeadBytes = (nint)valueDim * TF.ElementSize;
            int keyHeadScales = Widen.Int8Blocks(headDim), valueHeadScales = Widen.Int8Blocks(valueDim);
            bool fetchKeys = FetchesAhead(keys0.Stride, keyHeadBytes), fetchValues = FetchesAhead(values0.Stride, valueHeadBytes);
            bool widenOnce = WidensOnce<TF>(lanesPerKvHead);

            // Keys any lane sees: the union of the lanes' ranges, from a multiple of KeyBlock.
            int keyStart = 0, keyEnd = keyLength;
            if (!TMask.HidesNothing)
            {
                keyStart = int.MaxValue;
                keyEnd = 0;
                for (int lane = 0; lane < lanes; lane++)
                {
                    KeyRange keys = LaneKeys(mask, batch, firstHead, lane, queryLength);
                    if (keys.Count > 0)
                    {
                        keyStart = Math.Min(keyStart, keys.Start);
                        keyEnd = Math.Max(keyEnd, keys.End);
                    }
                }

                keyStart = keyEnd == 0 ? 0 : keyStart / KeyBlock * KeyBlock;
            }

            for (int j0 = keyStart; j0 < keyEnd; j0 += KeyBlock)
            {
                int bk = Math.Min(KeyBlock, keyEnd - j0);

                // Scores, eight key rows of one kv head at a time, for all of the head's lanes.
                for (int jj = 0; jj < bk; jj += RowGroup)
                {
                    int rowsNow = Math.Min(RowGroup, bk - jj);
                    for (int g = 0; g < kvHeadCount; g++)
                    {
                        Rows k = keys0.At(j0 + jj).Shifted(g * keyHeadBytes, g * keyHeadScales);
                        if (fetchKeys)
                        {
                            FetchRows(k, keyHeadBytes);
                        }

                        int lane0 = g * lanesPerKvHead, laneEnd = lane0 + lanesPerKvHead;
                        int lane = lane0;
                        if (rowsNow == RowGroup && wholeVectors)
                        {
                            // With two or more four-lane groups on one kv head, its eight low-precision rows are widened
                            // once into an L1 tile and each group reads floats, instead of each group widening them again.
                            if (widenOnce)
                            {
                                WidenRows<TV, TOps, TF>(k, headDim, tile);
                                ScoreGroup<TV, TOps, SingleFormat>(p, batch, firstHead, lane0, laneEnd, new Rows((byte*)tile, headDim * sizeof(float), null, 0), scores + jj);
                            }
                            else
                            {
                                ScoreGroup<TV, TOps, TF>(p, batch, firstHead, lane0, laneEnd, k, scores + jj);
                            }

                            continue;
                        }

                        for (; lane < laneEnd; lane++)
                        {
                            float* q = LaneQuery(p, batch, firstHead, lane, queryLength);
                            for (int r = 0; r < rowsNow; r++)
                            {
                                scores[lane * KeyBlock + jj + r] = Dot<TV, TOps, TF>(q, k.At(r), headDim) * p.Scale;
                            }
                        }
                    }
                }

                // Online softmax per lane over this block: a lane sees the keys of its range (a causal lane a prefix).
                for (int lane = 0; lane < lanes; lane++)
                {
                    TMask headMask = mask.ForHead(batch, firstHead + lane / queryLength);
                    int i = lane % queryLength;
                    KeyRange visible = headMask.Keys(i).Within(j0, bk);
                    float* s = scores + lane * KeyBlock;
                    if (!RowKernels.AllFinite<TV, TOps>(ref s[visible.Start], visible.Count))
                    {
                        // Float overflow (or ±∞/NaN in the inputs): l = NaN marks the lane for the exact recompute at the end.
                        l[lane] = float.NaN;
                    }

                    if (TMask.ModifiesScores && visible.Count > 0)
                    {
                        // Softcap, ALiBi, a dense mask: after the overflow test (a dense mask's −∞ is a hidden key, not an overflow).
                        headMask.ModifyRow<TV, TOps>(s + visible.Start, i, j0 + visible.Start, visible.Count);
                    }

                    if (!TMask.IsRange)
                    {
                        // After the overflow test, so that a masked −∞ is not taken for an overflow.
                        MaskScores(headMask, i, j0, s, visible);
                    }

                    float alpha = OnlineSoftmax.StepRow<TV, TOps>(s, bk, visible, ref m[lane], ref l[lane]);
                    if (alpha != 1f)
                    {
                        RowKernels.Scale<TV, TOps>(ref acc[lane * valueDim], valueDim, alpha);
                    }
                }

                // Values in memory order, eight key rows of one kv head at a time; a lane whose mask cuts the rows adds
                // only the rows it sees, so a NaN or ∞ behind the mask cannot leak in as 0·∞.
                for (int jj = 0; jj < bk; jj += RowGroup)
                {
                    int rowsNow = Math.Min(RowGroup, bk - jj);
                    for (int g = 0; g < kvHeadCount; g++)
                    {
                        Rows v = values0.At(j0 + jj).Shifted(g * valueHeadBytes, g * valueHeadScales);
                        if (fetchValues)
                        {
                            FetchRows(v, valueHeadBytes);
                        }

                        int lane0 = g * lanesPerKvHead, laneEnd = lane0 + lanesPerKvHead;
                        int lane = lane0;
                        if (rowsNow == RowGroup)
                        {
                            if (widenOnce)
                            {
                                WidenRows<TV, TOps, TF>(v, valueDim, tile);
                                lane = ValueGroup<TV, TOps, TMask, SingleFormat>(mask, batch, firstHead, lane0, laneEnd, queryLength, j0 + jj,
                                                                                 new Rows((byte*)tile, valueDim * sizeof(float), null, 0), scores + jj, acc, valueDim);
                            }
                            else
                            {
                                lane = ValueGroup<TV, TOps, TMask, TF>(mask, batch, firstHead, lane0, laneEnd, queryLength, j0 + jj, v, scores + jj, acc, valueDim);
                            }
                        }

                        for (; lane < laneEnd; lane++)
                        {
                            AddSeenRows<TV, TOps, TMask, TF>(mask, batch, firstHead, lane, queryLength, j0 + jj, rowsNow, v, scores + lane * KeyBlock + jj, acc + lane * valueDim, valueDim);
                        }
                    }
                }
            }

            // Output row = acc / l (with the head's sink in the denominator, and the row's log-sum-exp written, when the
            // call has them); a lane that saw no key (l = 0) is zero, and one whose float scores left float's range
            // (l < 1, or a non-finite output) is recomputed exactly.
            bool closes = p.Sinks != null || p.LogSumExp != null;
            for (int lane = 0; lane < lanes; lane++)
            {
                int i = lane % queryLength, head = firstHead + lane / queryLength;
                float* o = p.OutputHead(batch, head) + i * p.OutputRowStride;
                float inverse;
                if (closes)
                {
                    float lse = OnlineSoftmax.Close(m[lane], l[lane], p.Sinks == null ? float.NegativeInfinity : p.Sinks[head], out inverse);
                    if (p.LogSumExp != null)
                    {
                        p.LogSumExp[p.LogSumExpIndex(batch, head, i)] = lse;
                    }
                }
                else
                {
                    inverse = OnlineSoftmax.Inverse(l[lane]);
                }

                float* a = acc + lane * valueDim;
                for (int c = 0; c < valueDim; c++)
                {
                    o[c] = a[c] * inverse;
                }

                TMask headMask = mask.ForHead(batch, head);
                if (ExactRow.NeedsExact<TV, TOps>(l[lane], headMask.Keys(i).Count, o, valueDim))
                {
                    ExactRow.Compute(p, headMask, batch, head, i);
                }
            }
        }
    }

    /// <summary>
    /// Scores of eight whole key rows <paramref name="k"/> (stored as <typeparamref name="TF"/>) for lanes <c>[lane, laneEnd)</c>
    /// of one kv head: four lanes at a time, then two, then one. s: the lanes' scores at the rows' first key, lane t's at
    /// <c>s + t·KeyBlock</c>. The head dim is whole vectors. Inlined: it runs once per eight rows per kv head, and as a
    /// call it made multi-head decode 10–16 % slower.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ScoreGroup<TV, TOps, TF>(in AttentionProblem p, int batch, int firstHead, int lane, int laneEnd, Rows k, float* s)
        where TV : struct where TOps : struct, IFloatVector<TV> where TF : struct, IStoredFormat
    {
        for (; lane + 4 <= laneEnd; lane += 4)
        {
            float* s0 = s + lane * KeyBlock;
            float* q0 = LaneQuery(p, batch, firstHead, lane, p.QueryLength), q1 = LaneQuery(p, batch, firstHead, lane + 1, p.QueryLength);
            float* q2 = LaneQuery(p, batch, firstHead, lane + 2, p.QueryLength), q3 = LaneQuery(p, batch, firstHead, lane + 3, p.QueryLength);
            if (typeof(TV) == typeof(Vector512<float>) && Avx512F.IsSupported)
            {
                ScoresFourLanesFourRows<TF>(q0, q1, q2, q3, k, p.HeadDim, p.Scale, s0);
                ScoresFourLanesFourRows<TF>(q0, q1, q2, q3, k.At(4), p.HeadDim, p.Scale, s0 + 4);
                continue;
            }

            for (int r = 0; r < RowGroup; r += 2)
            {
                ScoresFourLanesTwoRows<TV, TOps, TF>(q0, q1, q2, q3, k.At(r), p.HeadDim, p.Scale, s0 + r);
            }
        }

        for (; lane + 2 <= laneEnd; lane += 2)
        {
            float* q0 = LaneQuery(p, batch, firstHead, lane, p.QueryLength), q1 = LaneQuery(p, batch, firstHead, lane + 1, p.QueryLength);
            float* s0 = s + lane * KeyBlock;
            ScoresTwoLanesFourRows<TV, TOps, TF>(q0, q1, k, p.HeadDim, p.Scale, s0);
            ScoresTwoLanesFourRows<TV, TOps, TF>(q0, q1, k.At(4), p.HeadDim, p.Scale, s0 + 4);
        }

        if (lane < laneEnd)
        {
            ScoresEightRows<TV, TOps, TF>(LaneQuery(p, batch, firstHead, lane, p.QueryLength), k, p.HeadDim, p.Scale, s + lane * KeyBlock);
        }
    }

    /// <summary>
    /// Adds eight whole value rows <paramref name="v"/> (stored as <typeparamref name="TF"/>) to lanes <c>[lane, laneEnd)</c>
    /// of one kv head, weighted by their scores (lane t's at <c>s + t·KeyBlock</c>): four lanes at a time, then two, then
    /// one where the lanes see all eight rows, row by row (<see cref="AddSeenRows"/>) where the mask cuts them. Returns
    /// the first lane not served (the last one when it sees only some of the rows). j: the rows' first key. Inlined, as
    /// <see cref="ScoreGroup{TV, TOps, TF}"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ValueGroup<TV, TOps, TMask, TF>(in TMask mask, int batch, int firstHead, int lane, int laneEnd, int queryLength, int j,
                                                      Rows v, float* s, float* acc, int valueDim)
        where TV : struct where TOps : struct, IFloatVector<TV> where TMask : unmanaged, IAttentionMask<TMask> where TF : struct, IStoredFormat
    {
        for (; lane + 4 <= laneEnd; lane += 4)
        {
            if (TMask.IsRange && SeesAll(mask, batch, firstHead, lane, 4, queryLength, j))
            {
                float* w0 = s + lane * KeyBlock;
                float* a0 = acc + lane * valueDim;
                ValuesFourLanesEightRows<TV, TOps, TF>(v, w0, a0, valueDim);
                continue;
            }

            for (int t = 0; t < 4; t++)
            {
                AddSeenRows<TV, TOps, TMask, TF>(mask, batch, firstHead, lane + t, queryLength, j, RowGroup, v, s + (lane + t) * KeyBlock, acc + (lane + t) * valueDim, valueDim);
            }
        }

        for (; lane + 2 <= laneEnd; lane += 2)
        {
            float* w0 = s + lane * KeyBlock;
            if (TMask.IsRange && SeesAll(mask, batch, firstHead, lane, 2, queryLength, j))
            {
                ValuesTwoLanesFourRows<TV, TOps, TF>(v, w0, w0 + KeyBlock, acc + lane * valueDim, acc + (lane + 1) * valueDim, valueDim);
                ValuesTwoLanesFourRows<TV, TOps, TF>(v.At(4), w0 + 4, w0 + KeyBlock + 4, acc + lane * valueDim, acc + (lane + 1) * valueDim, valueDim);
                continue;
            }

            AddSeenRows<TV, TOps, TMask, TF>(mask, batch, firstHead, lane, queryLength, j, RowGroup, v, w0, acc + lane * valueDim, valueDim);
            AddSeenRows<TV, TOps, TMask, TF>(mask, batch, firstHead, lane + 1, queryLength, j, RowGroup, v, w0 + KeyBlock, acc + (lane + 1) * valueDim, valueDim);
        }

        if (lane < laneEnd && TMask.IsRange && SeesAll(mask, batch, firstHead, lane, 1, queryLength, j))
        {
            ValuesEightRows<TV, TOps, TF>(v, s + lane * KeyBlock, acc + lane * valueDim, valueDim);
            lane++;
        }

        return lane;
    }

    /// <summary>
    /// tile[r][c] = row r's element c, widened to float, for the eight rows of <paramref name="rows"/> and c &lt; width:
    /// the same floats the kernels widen in registers. tile: [RowGroup][width].
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WidenRows<TV, TOps, TF>(Rows rows, int width, float* tile)
        where TV : struct where TOps : struct, IFloatVector<TV> where TF : struct, IStoredFormat
    {
        nuint n = (nuint)width, w = (nuint)TOps.Count;
        for (int r = 0; r < RowGroup; r++)
        {
            Rows row = rows.At(r);
            float* t = tile + r * width;
            nuint c = 0;
            for (; c + w <= n; c += w)
            {
                TOps.Store(TF.Load<TV, TOps>(row.First, row.Scales, c), ref t[0], c);
            }

            for (; c < n; c++)
            {
                t[c] = TF.Load<float, ScalarOps>(row.First, row.Scales, c);
            }
        }
    }

    /// <summary>
    /// Lane (t, i)'s query row: lane = t·queryLength + i reads query head <c>firstHead + t</c>, row i. A single-token
    /// step (one query row) skips the integer division, which the kernels otherwise pay four times per eight key rows:
    /// grouped-query Half and Int8 steps measured 2–3 % faster for it (Intel Xeon VM, 2026-12-06).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float* LaneQuery(in AttentionProblem p, int batch, int firstHead, int lane, int queryLength) =>
        queryLength == 1 ? p.QueryHead(batch, firstHead + lane)
                         : p.QueryHead(batch, firstHead + lane / queryLength) + lane % queryLength * p.QueryRowStride;

    /// <summary>Whether lanes <c>[lane, lane + count)</c> all see every key of <c>[j, j + 8)</c> (a range mask).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool SeesAll<TMask>(in TMask mask, int batch, int firstHead, int lane, int count, int queryLength, int j)
        where TMask : unmanaged, IAttentionMask<TMask>
    {
        if (TMask.HidesNothing)
        {
            return true;
        }

        for (int t = lane; t < lane + count; t++)
        {
            if (LaneKeys(mask, batch, firstHead, t, queryLength).Within(j, RowGroup).Count != RowGroup)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary><c>Σ_c q[c]·k[c]</c> over one stored key row (the tails: fewer than eight rows, or a head dim that is not whole vectors).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Dot<TV, TOps, TF>(float* q, Rows k, int headDim)
        where TV : struct where TOps : struct, IFloatVector<TV> where TF : struct, IStoredFormat
    {
        nuint c = 0, n = (nuint)headDim, w = (nuint)TOps.Count;
        TV a = TOps.Zero;
        for (; c + w <= n; c += w)
        {
            a = TOps.MultiplyAdd(TOps.Load(ref q[0], c), TF.Load<TV, TOps>(k.First, k.Scales, c), a);
        }

        float sum = TOps.Sum(a);
        for (; c < n; c++)
        {
            sum = ScalarOps.MultiplyAdd(q[c], TF.Load<float, ScalarOps>(k.First, k.Scales, c), sum);
        }

        return sum;
    }

    /// <summary>
    /// <c>s[r] = (q · k_r) · scale</c> for the eight stored key rows of <paramref name="k"/>: one lane (multi-head
    /// attention), each loaded query vector feeding eight FMAs and eight rows streamed side by side. headDim is whole vectors.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ScoresEightRows<TV, TOps, TF>(float* q, Rows k, int headDim, float scale, float* s)
        where TV : struct where TOps : struct, IFloatVector<TV> where TF : struct, IStoredFormat
    {
        Debug.Assert(headDim % TOps.Count == 0);
        nuint n = (nuint)headDim, w = (nuint)TOps.Count;
        byte* k0 = k.First;
        nint st = k.Stride, ss = k.ScaleStride;
        float* c0 = k.Scales;
        TV a0 = TOps.Zero, a1 = TOps.Zero, a2 = TOps.Zero, a3 = TOps.Zero, a4 = TOps.Zero, a5 = TOps.Zero, a6 = TOps.Zero, a7 = TOps.Zero;
        for (nuint c = 0; c < n; c += w)
        {
            TV qv = TOps.Load(ref q[0], c);
            a0 = TOps.MultiplyAdd(qv, TF.Load<TV, TOps>(k0, c0, c), a0);
            a1 = TOps.MultiplyAdd(qv, TF.Load<TV, TOps>(k0 + st, c0 + ss, c), a1);
            a2 = TOps.MultiplyAdd(qv, TF.Load<TV, TOps>(k0 + 2 * st, c0 + 2 * ss, c), a2);
            a3 = TOps.MultiplyAdd(qv, TF.Load<TV, TOps>(k0 + 3 * st, c0 + 3 * ss, c), a3);
            a4 = TOps.MultiplyAdd(qv, TF.Load<TV, TOps>(k0 + 4 * st, c0 + 4 * ss, c), a4);
            a5 = TOps.MultiplyAdd(qv, TF.Load<TV, TOps>(k0 + 5 * st, c0 + 5 * ss, c), a5);
            a6 = TOps.MultiplyAdd(qv, TF.Load<TV, TOps>(k0 + 6 * st, c0 + 6 * ss, c), a6);
            a7 = TOps.MultiplyAdd(qv, TF.Load<TV, TOps>(k0 + 7 * st, c0 + 7 * ss, c), a7);
        }

        TOps.StoreSums(a0, a1, a2, a3, scale, ref s[0]);
        TOps.StoreSums(a4, a5, a6, a7, scale, ref s[4]);
    }

    /// <summary>
    /// <c>s0[r] = (q0 · k_r) · scale</c> and <c>s1[r] = (q1 · k_r) · scale</c>, with s1 = s0 + <see cref="KeyBlock"/>,
    /// for four stored key rows: two lanes of one kv head, each loaded (widened) key vector feeding two FMAs.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ScoresTwoLanesFourRows<TV, TOps, TF>(float* q0, float* q1, Rows k, int headDim, float scale, float* s0)
        where TV : struct where TOps : struct, IFloatVector<TV> where TF : struct, IStoredFormat
    {
        Debug.Assert(headDim % TOps.Count == 0);
        nuint n = (nuint)headDim, w = (nuint)TOps.Count;
        byte* k0 = k.First;
        nint st = k.Stride, ss = k.ScaleStride;
        float* c0 = k.Scales;
        TV a0 = TOps.Zero, a1 = TOps.Zero, a2 = TOps.Zero, a3 = TOps.Zero, b0 = TOps.Zero, b1 = TOps.Zero, b2 = TOps.Zero, b3 = TOps.Zero;
        for (nuint c = 0; c < n; c += w)
        {
            TV x0 = TF.Load<TV, TOps>(k0, c0, c), x1 = TF.Load<TV, TOps>(k0 + st, c0 + ss, c);
            TV x2 = TF.Load<TV, TOps>(k0 + 2 * st, c0 + 2 * ss, c), x3 = TF.Load<TV, TOps>(k0 + 3 * st, c0 + 3 * ss, c);
            TV qa = TOps.Load(ref q0[0], c);
            a0 = TOps.MultiplyAdd(qa, x0, a0);
            a1 = TOps.MultiplyAdd(qa, x1, a1);
            a2 = TOps.MultiplyAdd(qa, x2, a2);
            a3 = TOps.MultiplyAdd(qa, x3, a3);
            TV qb = TOps.Load(ref q1[0], c);
            b0 = TOps.MultiplyAdd(qb, x0, b0);
            b1 = TOps.MultiplyAdd(qb, x1, b1);
            b2 = TOps.MultiplyAdd(qb, x2, b2);
            b3 = TOps.MultiplyAdd(qb, x3, b3);
        }

        TOps.StoreSums(a0, a1, a2, a3, scale, ref s0[0]);
        TOps.StoreSums(b0, b1, b2, b3, scale, ref s0[KeyBlock]);
    }

    /// <summary>
    /// <c>s_t[r] = (q_t · k_r) · scale</c> for four lanes t (lane t's scores at <c>s0 + t·KeyBlock</c>) and two stored key
    /// rows r: each loaded (widened) key vector feeds four FMAs, eight accumulators and two key vectors in registers,
    /// the query vectors read as FMA operands. The lanes of one kv head in grouped-query attention.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ScoresFourLanesTwoRows<TV, TOps, TF>(float* q0, float* q1, float* q2, float* q3, Rows k, int headDim, float scale, float* s0)
        where TV : struct where TOps : struct, IFloatVector<TV> where TF : struct, IStoredFormat
    {
        Debug.Assert(headDim % TOps.Count == 0);
        nuint n = (nuint)headDim, w = (nuint)TOps.Count;
        byte* k0 = k.First, k1 = k0 + k.Stride;
        float* c0 = k.Scales, c1 = c0 + k.ScaleStride;
        TV a0 = TOps.Zero, a1 = TOps.Zero, b0 = TOps.Zero, b1 = TOps.Zero, d0 = TOps.Zero, d1 = TOps.Zero, e0 = TOps.Zero, e1 = TOps.Zero;
        for (nuint c = 0; c < n; c += w)
        {
            TV x0 = TF.Load<TV, TOps>(k0, c0, c), x1 = TF.Load<TV, TOps>(k1, c1, c);
            TV qa = TOps.Load(ref q0[0], c);
            a0 = TOps.MultiplyAdd(qa, x0, a0);
            a1 = TOps.MultiplyAdd(qa, x1, a1);
            TV qb = TOps.Load(ref q1[0], c);
            b0 = TOps.MultiplyAdd(qb, x0, b0);
            b1 = TOps.MultiplyAdd(qb, x1, b1);
            TV qc = TOps.Load(ref q2[0], c);
            d0 = TOps.MultiplyAdd(qc, x0, d0);
            d1 = TOps.MultiplyAdd(qc, x1, d1);
            TV qd = TOps.Load(ref q3[0], c);
            e0 = TOps.MultiplyAdd(qd, x0, e0);
            e1 = TOps.MultiplyAdd(qd, x1, e1);
        }

        float* sums = stackalloc float[8];
        TOps.StoreSums(a0, a1, b0, b1, scale, ref sums[0]);
        TOps.StoreSums(d0, d1, e0, e1, scale, ref sums[4]);
        s0[0] = sums[0];
        s0[1] = sums[1];
        s0[KeyBlock] = sums[2];
        s0[KeyBlock + 1] = sums[3];
        s0[2 * KeyBlock] = sums[4];
        s0[2 * KeyBlock + 1] = sums[5];
        s0[3 * KeyBlock] = sums[6];
        s0[3 * KeyBlock + 1] = sums[7];
    }

    /// <summary>
    /// <c>s_t[r] = (q_t · k_r) · scale</c> for four lanes t (lane t's scores at <c>s0 + t·KeyBlock</c>) and four stored
    /// key rows r, 512 bits: sixteen accumulators and four key vectors in registers (of 32), each loaded (widened) key
    /// vector feeding four FMAs and each query vector four, then one tree reduction of the sixteen
    /// (<see cref="Vector512Ops.SumsOfSixteen"/>) whose quarters are the four lanes' four scores. Twice the rows of
    /// <see cref="ScoresFourLanesTwoRows{TV, TOps, TF}"/> and a third of its reduction work per score; narrower widths
    /// have 16 registers, too few for it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ScoresFourLanesFourRows<TF>(float* q0, float* q1, float* q2, float* q3, Rows k, int headDim, float scale, float* s0)
        where TF : struct, IStoredFormat
    {
        Debug.Assert(headDim % Vector512<float>.Count == 0);
        nuint n = (nuint)headDim, w = (nuint)Vector512<float>.Count;
        byte* k0 = k.First, k1 = k0 + k.Stride, k2 = k1 + k.Stride, k3 = k2 + k.Stride;
        float* c0 = k.Scales, c1 = c0 + k.ScaleStride, c2 = c1 + k.ScaleStride, c3 = c2 + k.ScaleStride;
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default, a10 = default, a11 = default, a12 = default, a13 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default, a30 = default, a31 = default, a32 = default, a33 = default;
        for (nuint c = 0; c < n; c += w)
        {
            // a{r}{t}: row r, lane t.
            Vector512<float> x0 = TF.Load<Vector512<float>, Vector512Ops>(k0, c0, c), x1 = TF.Load<Vector512<float>, Vector512Ops>(k1, c1, c);
            Vector512<float> x2 = TF.Load<Vector512<float>, Vector512Ops>(k2, c2, c), x3 = TF.Load<Vector512<float>, Vector512Ops>(k3, c3, c);
            Vector512<float> q = Vector512.Load(q0 + c);
            a00 = Vector512.FusedMultiplyAdd(q, x0, a00);
            a10 = Vector512.FusedMultiplyAdd(q, x1, a10);
            a20 = Vector512.FusedMultiplyAdd(q, x2, a20);
            a30 = Vector512.FusedMultiplyAdd(q, x3, a30);
            q = Vector512.Load(q1 + c);
            a01 = Vector512.FusedMultiplyAdd(q, x0, a01);
            a11 = Vector512.FusedMultiplyAdd(q, x1, a11);
            a21 = Vector512.FusedMultiplyAdd(q, x2, a21);
            a31 = Vector512.FusedMultiplyAdd(q, x3, a31);
            q = Vector512.Load(q2 + c);
            a02 = Vector512.FusedMultiplyAdd(q, x0, a02);
            a12 = Vector512.FusedMultiplyAdd(q, x1, a12);
            a22 = Vector512.FusedMultiplyAdd(q, x2, a22);
            a32 = Vector512.FusedMultiplyAdd(q, x3, a32);
            q = Vector512.Load(q3 + c);
            a03 = Vector512.FusedMultiplyAdd(q, x0, a03);
            a13 = Vector512.FusedMultiplyAdd(q, x1, a13);
            a23 = Vector512.FusedMultiplyAdd(q, x2, a23);
            a33 = Vector512.FusedMultiplyAdd(q, x3, a33);
        }

        Vector512<float> sums = Vector512Ops.SumsOfSixteen(a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33) * scale;
        sums.GetLower().GetLower().Store(s0);
        sums.GetLower().GetUpper().Store(s0 + KeyBlock);
        sums.GetUpper().GetLower().Store(s0 + 2 * KeyBlock);
        sums.GetUpper().GetUpper().Store(s0 + 3 * KeyBlock);
    }

    /// <summary><c>acc[c] += Σ_{r &lt; 8} wt[r]·v_r[c]</c> over eight stored value rows: one lane, one load and store of the accumulator per vector for eight rows, two FMA chains.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ValuesEightRows<TV, TOps, TF>(Rows v, float* wt, float* acc, int valueDim)
        where TV : struct where TOps : struct, IFloatVector<TV> where TF : struct, IStoredFormat
    {
        nuint c = 0, n = (nuint)valueDim, w = (nuint)TOps.Count;
        byte* x0 = v.First;
        nint st = v.Stride, ss = v.ScaleStride;
        float* c0 = v.Scales;
        TV f0 = TOps.Create(wt[0]), f1 = TOps.Create(wt[1]), f2 = TOps.Create(wt[2]), f3 = TOps.Create(wt[3]);
        TV f4 = TOps.Create(wt[4]), f5 = TOps.Create(wt[5]), f6 = TOps.Create(wt[6]), f7 = TOps.Create(wt[7]);
        for (; c + w <= n; c += w)
        {
            TV even = TOps.MultiplyAdd(f0, TF.Load<TV, TOps>(x0, c0, c), TOps.Load(ref acc[0], c));
            TV odd = TOps.Multiply(f1, TF.Load<TV, TOps>(x0 + st, c0 + ss, c));
            even = TOps.MultiplyAdd(f2, TF.Load<TV, TOps>(x0 + 2 * st, c0 + 2 * ss, c), even);
            odd = TOps.MultiplyAdd(f3, TF.Load<TV, TOps>(x0 + 3 * st, c0 + 3 * ss, c), odd);
            even = TOps.MultiplyAdd(f4, TF.Load<TV, TOps>(x0 + 4 * st, c0 + 4 * ss, c), even);
            odd = TOps.MultiplyAdd(f5, TF.Load<TV, TOps>(x0 + 5 * st, c0 + 5 * ss, c), odd);
            even = TOps.MultiplyAdd(f6, TF.Load<TV, TOps>(x0 + 6 * st, c0 + 6 * ss, c), even);
            odd = TOps.MultiplyAdd(f7, TF.Load<TV, TOps>(x0 + 7 * st, c0 + 7 * ss, c), odd);
            TOps.Store(TOps.Add(even, odd), ref acc[0], c);
        }

        for (; c < n; c++)
        {
            float sum = acc[c];
            for (int r = 0; r < RowGroup; r++)
            {
                sum = ScalarOps.MultiplyAdd(wt[r], TF.Load<float, ScalarOps>(x0 + r * st, c0 + r * ss, c), sum);
            }

            acc[c] = sum;
        }
    }

    /// <summary><c>acc0[c] += Σ_{r &lt; 4} w0[r]·v_r[c]</c> and the same for lane 1: two lanes, each loaded (widened) value vector feeding two FMAs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ValuesTwoLanesFourRows<TV, TOps, TF>(Rows v, float* w0, float* w1, float* acc0, float* acc1, int valueDim)
        where TV : struct where TOps : struct, IFloatVector<TV> where TF : struct, IStoredFormat
    {
        nuint c = 0, n = (nuint)valueDim, w = (nuint)TOps.Count;
        byte* x0 = v.First;
        nint st = v.Stride, ss = v.ScaleStride;
        float* c0 = v.Scales;
        TV f0 = TOps.Create(w0[0]), f1 = TOps.Create(w0[1]), f2 = TOps.Create(w0[2]), f3 = TOps.Create(w0[3]);
        TV g0 = TOps.Create(w1[0]), g1 = TOps.Create(w1[1]), g2 = TOps.Create(w1[2]), g3 = TOps.Create(w1[3]);
        for (; c + w <= n; c += w)
        {
            TV v0 = TF.Load<TV, TOps>(x0, c0, c), v1 = TF.Load<TV, TOps>(x0 + st, c0 + ss, c);
            TV a = TOps.MultiplyAdd(f0, v0, TOps.Load(ref acc0[0], c));
            TV b = TOps.MultiplyAdd(g0, v0, TOps.Load(ref acc1[0], c));
            a = TOps.MultiplyAdd(f1, v1, a);
            b = TOps.MultiplyAdd(g1, v1, b);
            TV v2 = TF.Load<TV, TOps>(x0 + 2 * st, c0 + 2 * ss, c), v3 = TF.Load<TV, TOps>(x0 + 3 * st, c0 + 3 * ss, c);
            a = TOps.MultiplyAdd(f2, v2, a);
            b = TOps.MultiplyAdd(g2, v2, b);
            TOps.Store(TOps.MultiplyAdd(f3, v3, a), ref acc0[0], c);
            TOps.Store(TOps.MultiplyAdd(g3, v3, b), ref acc1[0], c);
        }

        for (; c < n; c++)
        {
            float a = acc0[c], b = acc1[c];
            for (int r = 0; r < 4; r++)
            {
                float x = TF.Load<float, ScalarOps>(x0 + r * st, c0 + r * ss, c);
                a = ScalarOps.MultiplyAdd(w0[r], x, a);
                b = ScalarOps.MultiplyAdd(w1[r], x, b);
            }

            acc0[c] = a;
            acc1[c] = b;
        }
    }

    /// <summary>
    /// <c>acc_t[c] += Σ_{r &lt; 8} w_t[r]·v_r[c]</c> for four lanes t (weights at <c>w0 + t·KeyBlock</c>, accumulators at
    /// <c>acc0 + t·valueDim</c>) over eight stored value rows: two columns of vectors of the four lanes' accumulators
    /// stay in registers (eight) across the eight rows, each loaded (widened) value vector feeds four FMAs, and each
    /// accumulator is loaded and stored once per eight rows. The weights are broadcast from memory as they are used.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ValuesFourLanesEightRows<TV, TOps, TF>(Rows v, float* w0, float* acc0, int valueDim)
        where TV : struct where TOps : struct, IFloatVector<TV> where TF : struct, IStoredFormat
    {
        nuint c = 0, n = (nuint)valueDim, w = (nuint)TOps.Count;
        byte* x0 = v.First;
        nint st = v.Stride, ss = v.ScaleStride;
        float* c0 = v.Scales;
        float* w1 = w0 + KeyBlock, w2 = w1 + KeyBlock, w3 = w2 + KeyBlock;
        float* acc1 = acc0 + valueDim, acc2 = acc1 + valueDim, acc3 = acc2 + valueDim;
        for (; c + 2 * w <= n; c += 2 * w)
        {
            TV a0 = TOps.Load(ref acc0[0], c), a1 = TOps.Load(ref acc0[0], c + w);
            TV b0 = TOps.Load(ref acc1[0], c), b1 = TOps.Load(ref acc1[0], c + w);
            TV d0 = TOps.Load(ref acc2[0], c), d1 = TOps.Load(ref acc2[0], c + w);
            TV e0 = TOps.Load(ref acc3[0], c), e1 = TOps.Load(ref acc3[0], c + w);
            for (int r = 0; r < RowGroup; r++)
            {
                byte* row = x0 + r * st;
                float* scales = c0 + r * ss;
                TV x = TF.Load<TV, TOps>(row, scales, c), y = TF.Load<TV, TOps>(row, scales, c + w);
                TV f = TOps.Create(w0[r]);
                a0 = TOps.MultiplyAdd(f, x, a0);
                a1 = TOps.MultiplyAdd(f, y, a1);
                f = TOps.Create(w1[r]);
                b0 = TOps.MultiplyAdd(f, x, b0);
                b1 = TOps.MultiplyAdd(f, y, b1);
                f = TOps.Create(w2[r]);
                d0 = TOps.MultiplyAdd(f, x, d0);
                d1 = TOps.MultiplyAdd(f, y, d1);
                f = TOps.Create(w3[r]);
                e0 = TOps.MultiplyAdd(f, x, e0);
                e1 = TOps.MultiplyAdd(f, y, e1);
            }

            TOps.Store(a0, ref acc0[0], c);
            TOps.Store(a1, ref acc0[0], c + w);
            TOps.Store(b0, ref acc1[0], c);
            TOps.Store(b1, ref acc1[0], c + w);
            TOps.Store(d0, ref acc2[0], c);
            TOps.Store(d1, ref acc2[0], c + w);
            TOps.Store(e0, ref acc3[0], c);
            TOps.Store(e1, ref acc3[0], c + w);
        }

        for (; c + w <= n; c += w)
        {
            TV a0 = TOps.Load(ref acc0[0], c), b0 = TOps.Load(ref acc1[0], c), d0 = TOps.Load(ref acc2[0], c), e0 = TOps.Load(ref acc3[0], c);
            for (int r = 0; r < RowGroup; r++)
            {
                TV x = TF.Load<TV, TOps>(x0 + r * st, c0 + r * ss, c);
                a0 = TOps.MultiplyAdd(TOps.Create(w0[r]), x, a0);
                b0 = TOps.MultiplyAdd(TOps.Create(w1[r]), x, b0);
                d0 = TOps.MultiplyAdd(TOps.Create(w2[r]), x, d0);
                e0 = TOps.MultiplyAdd(TOps.Create(w3[r]), x, e0);
            }

            TOps.Store(a0, ref acc0[0], c);
            TOps.Store(b0, ref acc1[0], c);
            TOps.Store(d0, ref acc2[0], c);
            TOps.Store(e0, ref acc3[0], c);
        }

        for (; c < n; c++)
        {
            float a = acc0[c], b = acc1[c], d = acc2[c], e = acc3[c];
            for (int r = 0; r < RowGroup; r++)
            {
                float x = TF.Load<float, ScalarOps>(x0 + r * st, c0 + r * ss, c);
                a = ScalarOps.MultiplyAdd(w0[r], x, a);
                b = ScalarOps.MultiplyAdd(w1[r], x, b);
                d = ScalarOps.MultiplyAdd(w2[r], x, d);
                e = ScalarOps.MultiplyAdd(w3[r], x, e);
            }

            acc0[c] = a;
            acc1[c] = b;
            acc2[c] = d;
            acc3[c] = e;
        }
    }

    /// <summary>The keys lane (t, i) sees: lane = t·queryLength + i reads query head <c>firstHead + t</c>, row i (one query row: no division, as <see cref="LaneQuery"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static KeyRange LaneKeys<TMask>(in TMask mask, int batch, int firstHead, int lane, int queryLength)
        where TMask : unmanaged, IAttentionMask<TMask> =>
        queryLength == 1 ? mask.ForHead(batch, firstHead + lane).Keys(0)
                         : mask.ForHead(batch, firstHead + lane / queryLength).Keys(lane % queryLength);

    /// <summary>s[j] = −∞ for the keys j0 + j of <paramref name="visible"/> that row i does not see (a mask that is not a range).</summary>
    private static void MaskScores<TMask>(in TMask mask, int i, int j0, float* s, KeyRange visible)
        where TMask : unmanaged, IAttentionMask<TMask>
    {
        for (int j = visible.Start; j < visible.End; j++)
        {
            if (!mask.IsVisible(i, j0 + j))
            {
                s[j] = float.NegativeInfinity;
            }
        }
    }

    /// <summary>
    /// acc += Σ weights[r]·v_r over the rows r &lt; <paramref name="rows"/> (relative to key j) that the lane sees, one
    /// stored row at a time: lanes whose mask cuts the eight rows, and the block's last rows.
    /// </summary>
    private static void AddSeenRows<TV, TOps, TMask, TF>(in TMask mask, int batch, int firstHead, int lane, int queryLength, int j, int rows,
                                                         Rows v, float* weights, float* acc, int valueDim)
        where TV : struct where TOps : struct, IFloatVector<TV> where TMask : unmanaged, IAttentionMask<TMask> where TF : struct, IStoredFormat
    {
        TMask headMask = mask.ForHead(batch, firstHead + lane / queryLength);
        int i = lane % queryLength;
        KeyRange seen = TMask.HidesNothing ? new KeyRange(0, rows) : headMask.Keys(i).Within(j, rows);
        nuint w = (nuint)TOps.Count, n = (nuint)valueDim;
        for (int r = seen.Start; r < seen.End; r++)
        {
            if (TMask.IsRange || headMask.IsVisible(i, j + r))
            {
                Rows x = v.At(r);
                TV f = TOps.Create(weights[r]);
                nuint c = 0;
                for (; c + w <= n; c += w)
                {
                    TOps.Store(TOps.MultiplyAdd(f, TF.Load<TV, TOps>(x.First, x.Scales, c), TOps.Load(ref acc[0], c)), ref acc[0], c);
                }

                for (; c < n; c++)
                {
                    acc[c] = ScalarOps.MultiplyAdd(weights[r], TF.Load<float, ScalarOps>(x.First, x.Scales, c), acc[c]);
                }
            }
        }
    }
}
