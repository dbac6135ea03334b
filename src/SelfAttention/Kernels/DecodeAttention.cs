using System.Diagnostics;
using System.Runtime.CompilerServices;
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
/// attention, speculative decoding) all read the same key and value rows, so they are served together, two lanes per
/// inlined kernel: each loaded key (value) vector feeds both lanes' FMAs, and eight rows of one kv head are read
/// side by side (eight sequential runs for the hardware prefetchers), then stay in L1 for the head's other lane
/// pairs. Before, every lane ran its own eight-row kernel, one load per FMA plus the reductions, which left
/// grouped-query decode compute-bound at well under half a plain read; with one lane per kv head (multi-head
/// attention) the one-lane eight-row kernels run as before. Software prefetch does not help (measured: 5–12 % slower).
/// </para>
/// <para>
/// Low-precision storage (<see cref="KvCacheStorage"/>): each kv head's piece of eight rows is widened into an L1
/// tile (<see cref="Widen.Rows"/>) right before the kernels that read it, once for all of the head's lanes; memory
/// sees only the stored bytes, and no buffer of the whole cache is ever made.
/// </para>
/// <para>
/// Masks (<see cref="Masks.IAttentionMask{TSelf}"/>): the chunk reads only the key blocks inside the union of its lanes'
/// key ranges (per-sequence lengths: a sequence's own length, so the work is proportional to it); each lane's softmax
/// and value sums take the keys of its own range (and, for a mask that is not a range, only the visible ones),
/// through <see cref="OnlineSoftmax.StepRow{TV, TOps}"/>.
/// </para>
/// <para>
/// Scratch per work item (floats): scores <c>[lanes][KeyBlock]</c>, accumulators <c>[lanes][valueDim]</c>, then m and l
/// <c>[lanes]</c> each, with <c>lanes = kvHeadsInChunk · groupSize · queryLength</c>, then for low-precision storage
/// one widened tile <c>[8][max(headDim, valueDim)]</c>.
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

    /// <summary>Key rows read side by side (and widened together) per kv head.</summary>
    private const int RowGroup = 8;

    /// <summary>Kv heads per work item: enough for long contiguous runs, few enough to share the heads among threads.</summary>
    public static int KvHeadsPerItem(in AttentionProblem p, int degree) =>
        Math.Max(1, (p.Heads / p.GroupSize + degree - 1) / degree);

    /// <summary>Scratch floats one work item of <paramref name="kvHeadsPerItem"/> kv heads needs (in long: it can pass <see cref="int.MaxValue"/> for valid shapes).</summary>
    public static long ScratchLength(in AttentionProblem p, int kvHeadsPerItem)
    {
        long lanes = (long)kvHeadsPerItem * p.GroupSize * p.QueryLength;
        long widened = p.Storage == KvCacheStorage.Single ? 0 : (long)RowGroup * Math.Max(p.HeadDim, p.ValueDim);
        return lanes * (KeyBlock + (long)p.ValueDim + 2) + widened;
    }

    /// <summary>Computes every query row of the query heads that read kv heads <c>[firstKvHead, firstKvHead + kvHeadCount)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunChunk<TV, TOps, TMask>(in AttentionProblem p, TMask mask, int batch, int firstKvHead, int kvHeadCount, Span<float> scratchSpan)
        where TV : struct where TOps : struct, IFloatVector<TV> where TMask : unmanaged, IAttentionMask<TMask>
    {
        int queryLength = p.QueryLength, keyLength = p.KeyLength, headDim = p.HeadDim, valueDim = p.ValueDim, group = p.GroupSize;
        int lanesPerKvHead = group * queryLength, lanes = kvHeadCount * lanesPerKvHead;
        int firstHead = firstKvHead * group;
        Debug.Assert(scratchSpan.Length >= ScratchLength(p, kvHeadCount), "scratch shorter than ScratchLength");
        Debug.Assert(queryLength is > 0 and <= MaxQueryLength && firstKvHead + kvHeadCount <= p.Heads / group, "chunk outside the problem");
        bool stored = p.Storage != KvCacheStorage.Single;
        bool wholeVectors = headDim % TOps.Count == 0;
        fixed (float* scratch = scratchSpan)
        {
            float* scores = scratch;                        // [lanes][KeyBlock]
            float* acc = scores + lanes * KeyBlock;          // [lanes][valueDim]
            float* m = acc + lanes * valueDim;               // [lanes]
            float* l = m + lanes;                            // [lanes]
            float* tile = l + lanes;                         // low-precision storage: [8][headDim or valueDim], one head's piece of eight rows
            new Span<float>(acc, lanes * valueDim).Clear();
            new Span<float>(m, lanes).Fill(float.NegativeInfinity);
            new Span<float>(l, lanes).Clear();

            // Lane (g, t, i) = (g·group + t)·queryLength + i: kv head firstKvHead + g, query head firstHead + g·group + t, query row i.
            float* k = stored ? null : p.KeyHead(batch, firstHead);
            float* v = stored ? null : p.ValueHead(batch, firstHead);

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
                        float* kj = k + (j0 + jj) * p.KeyRowStride + g * headDim;
                        nint kStride = p.KeyRowStride;
                        if (stored)
                        {
                            Widen.Rows(p, key: true, batch, firstKvHead + g, j0 + jj, rowsNow, tile);
                            kj = tile;
                            kStride = headDim;
                        }

                        int lane0 = g * lanesPerKvHead, laneEnd = lane0 + lanesPerKvHead;
                        int lane = lane0;
                        if (rowsNow == RowGroup && wholeVectors)
                        {
                            for (; lane + 2 <= laneEnd; lane += 2)
                            {
                                ref float q0 = ref *LaneQuery(p, batch, firstHead, lane, queryLength);
                                ref float q1 = ref *LaneQuery(p, batch, firstHead, lane + 1, queryLength);
                                float* s0 = scores + lane * KeyBlock + jj, s1 = s0 + KeyBlock;
                                ScoresTwoLanesFourRows<TV, TOps>(ref q0, ref q1, ref kj[0], kStride, headDim, p.Scale, ref s0[0], ref s1[0]);
                                ScoresTwoLanesFourRows<TV, TOps>(ref q0, ref q1, ref kj[4 * kStride], kStride, headDim, p.Scale, ref s0[4], ref s1[4]);
                            }

                            if (lane < laneEnd)
                            {
                                RowKernels.ScoresEightRows<TV, TOps>(ref *LaneQuery(p, batch, firstHead, lane, queryLength), ref kj[0], kStride, headDim, p.Scale, ref scores[lane * KeyBlock + jj]);
                            }

                            continue;
                        }

                        for (; lane < laneEnd; lane++)
                        {
                            RowKernels.Scores<TV, TOps>(ref *LaneQuery(p, batch, firstHead, lane, queryLength), ref kj[0], kStride, rowsNow, headDim, p.Scale, ref scores[lane * KeyBlock + jj]);
                        }
                    }
                }

                // Online softmax per lane over this block: a lane sees the keys of its range (a causal lane a prefix).
                for (int lane = 0; lane < lanes; lane++)
                {
                    KeyRange visible = LaneKeys(mask, batch, firstHead, lane, queryLength).Within(j0, bk);
                    float* s = scores + lane * KeyBlock;
                    if (!RowKernels.AllFinite<TV, TOps>(ref s[visible.Start], visible.Count))
                    {
                        // Float overflow (or ±∞/NaN in the inputs): l = NaN marks the lane for the exact recompute at the end.
                        l[lane] = float.NaN;
                    }

                    if (!TMask.IsRange)
                    {
                        // After the overflow test, so that a masked −∞ is not taken for an overflow.
                        MaskScores(mask.ForHead(batch, firstHead + lane / queryLength), lane % queryLength, j0, s, visible);
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
                        float* vj = v + (j0 + jj) * p.ValueRowStride + g * valueDim;
                        nint vStride = p.ValueRowStride;
                        if (stored)
                        {
                            Widen.Rows(p, key: false, batch, firstKvHead + g, j0 + jj, rowsNow, tile);
                            vj = tile;
                            vStride = valueDim;
                        }

                        int lane0 = g * lanesPerKvHead, laneEnd = lane0 + lanesPerKvHead;
                        int lane = lane0;
                        if (lanesPerKvHead >= 2 && rowsNow == RowGroup)
                        {
                            for (; lane + 2 <= laneEnd; lane += 2)
                            {
                                KeyRange seen0 = Seen(mask, batch, firstHead, lane, queryLength, j0 + jj, RowGroup);
                                KeyRange seen1 = Seen(mask, batch, firstHead, lane + 1, queryLength, j0 + jj, RowGroup);
                                float* w0 = scores + lane * KeyBlock + jj, w1 = w0 + KeyBlock;
                                if (TMask.IsRange && seen0.Count == RowGroup && seen1.Count == RowGroup)
                                {
                                    MultiplyAddTwoLanesFourRows<TV, TOps>(ref vj[0], vStride, ref w0[0], ref w1[0], ref acc[lane * valueDim], ref acc[(lane + 1) * valueDim], valueDim);
                                    MultiplyAddTwoLanesFourRows<TV, TOps>(ref vj[4 * vStride], vStride, ref w0[4], ref w1[4], ref acc[lane * valueDim], ref acc[(lane + 1) * valueDim], valueDim);
                                    continue;
                                }

                                AddSeenRows<TV, TOps, TMask>(mask, batch, firstHead, lane, queryLength, j0 + jj, seen0, vj, vStride, w0, acc + lane * valueDim, valueDim);
                                AddSeenRows<TV, TOps, TMask>(mask, batch, firstHead, lane + 1, queryLength, j0 + jj, seen1, vj, vStride, w1, acc + (lane + 1) * valueDim, valueDim);
                            }
                        }

                        for (; lane < laneEnd; lane++)
                        {
                            float* weights = scores + lane * KeyBlock + jj;
                            KeyRange seen = Seen(mask, batch, firstHead, lane, queryLength, j0 + jj, rowsNow);
                            if (TMask.IsRange && seen.Count == RowGroup)
                            {
                                RowKernels.MultiplyAddEightRows<TV, TOps>(ref vj[0], vStride, ref weights[0], ref acc[lane * valueDim], valueDim);
                                continue;
                            }

                            AddSeenRows<TV, TOps, TMask>(mask, batch, firstHead, lane, queryLength, j0 + jj, seen, vj, vStride, weights, acc + lane * valueDim, valueDim);
                        }
                    }
                }
            }

            // Output row = acc / l; a lane that saw no key (l = 0) is zero, and one whose float scores left float's
            // range (l < 1, or a non-finite output) is recomputed exactly.
            for (int lane = 0; lane < lanes; lane++)
            {
                int i = lane % queryLength, head = firstHead + lane / queryLength;
                float* o = p.OutputHead(batch, head) + i * p.OutputRowStride;
                float inverse = OnlineSoftmax.Inverse(l[lane]);
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

    /// <summary>Lane (t, i)'s query row: lane = t·queryLength + i reads query head <c>firstHead + t</c>, row i.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float* LaneQuery(in AttentionProblem p, int batch, int firstHead, int lane, int queryLength) =>
        p.QueryHead(batch, firstHead + lane / queryLength) + lane % queryLength * p.QueryRowStride;

    /// <summary>The rows of <c>[j, j + rows)</c> (relative to j) that the lane's range holds; all of them when the mask hides nothing.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static KeyRange Seen<TMask>(in TMask mask, int batch, int firstHead, int lane, int queryLength, int j, int rows)
        where TMask : unmanaged, IAttentionMask<TMask> =>
        TMask.HidesNothing ? new KeyRange(0, rows) : LaneKeys(mask, batch, firstHead, lane, queryLength).Within(j, rows);

    /// <summary>
    /// <c>s0[r] = (q0 · k_r) · scale</c> and <c>s1[r] = (q1 · k_r) · scale</c> for the four keys <c>k_r = k + r·keyStride</c>:
    /// two lanes of one kv head, so each loaded key vector feeds two FMAs (eight accumulators, four key vectors and
    /// one query vector: 13 registers). q0, q1: [headDim]; k: [4, headDim]; s0, s1: [4]. <paramref name="headDim"/> is
    /// a multiple of the vector width. Compiled optimised from the first call, not inlined: inlined into the long
    /// chunk loop, the JIT left it and the value kernel as calls with tier-0 bodies at first.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ScoresTwoLanesFourRows<TV, TOps>(ref float q0, ref float q1, ref float k, nint keyStride, int headDim, float scale, ref float s0, ref float s1)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        Debug.Assert(headDim % TOps.Count == 0);
        nuint n = (nuint)headDim, w = (nuint)TOps.Count;
        ref float k1 = ref Unsafe.Add(ref k, keyStride);
        ref float k2 = ref Unsafe.Add(ref k1, keyStride);
        ref float k3 = ref Unsafe.Add(ref k2, keyStride);
        TV a0 = TOps.Zero, a1 = TOps.Zero, a2 = TOps.Zero, a3 = TOps.Zero, b0 = TOps.Zero, b1 = TOps.Zero, b2 = TOps.Zero, b3 = TOps.Zero;
        for (nuint c = 0; c < n; c += w)
        {
            TV x0 = TOps.Load(ref k, c), x1 = TOps.Load(ref k1, c), x2 = TOps.Load(ref k2, c), x3 = TOps.Load(ref k3, c);
            TV qa = TOps.Load(ref q0, c);
            a0 = TOps.MultiplyAdd(qa, x0, a0);
            a1 = TOps.MultiplyAdd(qa, x1, a1);
            a2 = TOps.MultiplyAdd(qa, x2, a2);
            a3 = TOps.MultiplyAdd(qa, x3, a3);
            TV qb = TOps.Load(ref q1, c);
            b0 = TOps.MultiplyAdd(qb, x0, b0);
            b1 = TOps.MultiplyAdd(qb, x1, b1);
            b2 = TOps.MultiplyAdd(qb, x2, b2);
            b3 = TOps.MultiplyAdd(qb, x3, b3);
        }

        TOps.StoreSums(a0, a1, a2, a3, scale, ref s0);
        TOps.StoreSums(b0, b1, b2, b3, scale, ref s1);
    }

    /// <summary>
    /// <c>acc0[c] += Σ_{r &lt; 4} w0[r]·x_r[c]</c> and <c>acc1[c] += Σ_{r &lt; 4} w1[r]·x_r[c]</c> over four rows of x,
    /// <paramref name="stride"/> floats apart: two lanes of one kv head, so each loaded value vector feeds two FMAs.
    /// w0, w1: [4]; acc0, acc1: [length]. Compiled optimised from the first call, like <see cref="ScoresTwoLanesFourRows{TV, TOps}"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MultiplyAddTwoLanesFourRows<TV, TOps>(ref float x, nint stride, ref float w0, ref float w1, ref float acc0, ref float acc1, int length)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        nuint i = 0, n = (nuint)length, w = (nuint)TOps.Count;
        ref float x1 = ref Unsafe.Add(ref x, stride);
        ref float x2 = ref Unsafe.Add(ref x1, stride);
        ref float x3 = ref Unsafe.Add(ref x2, stride);
        TV f0 = TOps.Create(w0), f1 = TOps.Create(Unsafe.Add(ref w0, 1)), f2 = TOps.Create(Unsafe.Add(ref w0, 2)), f3 = TOps.Create(Unsafe.Add(ref w0, 3));
        TV g0 = TOps.Create(w1), g1 = TOps.Create(Unsafe.Add(ref w1, 1)), g2 = TOps.Create(Unsafe.Add(ref w1, 2)), g3 = TOps.Create(Unsafe.Add(ref w1, 3));
        for (; i + w <= n; i += w)
        {
            TV v0 = TOps.Load(ref x, i), v1 = TOps.Load(ref x1, i), v2 = TOps.Load(ref x2, i), v3 = TOps.Load(ref x3, i);
            TV a = TOps.MultiplyAdd(f0, v0, TOps.Load(ref acc0, i));
            TV b = TOps.MultiplyAdd(g0, v0, TOps.Load(ref acc1, i));
            a = TOps.MultiplyAdd(f1, v1, a);
            b = TOps.MultiplyAdd(g1, v1, b);
            a = TOps.MultiplyAdd(f2, v2, a);
            b = TOps.MultiplyAdd(g2, v2, b);
            TOps.Store(TOps.MultiplyAdd(f3, v3, a), ref acc0, i);
            TOps.Store(TOps.MultiplyAdd(g3, v3, b), ref acc1, i);
        }

        float a0 = w0, a1 = Unsafe.Add(ref w0, 1), a2 = Unsafe.Add(ref w0, 2), a3 = Unsafe.Add(ref w0, 3);
        float b0 = w1, b1 = Unsafe.Add(ref w1, 1), b2 = Unsafe.Add(ref w1, 2), b3 = Unsafe.Add(ref w1, 3);
        for (; i < n; i++)
        {
            float v0 = Unsafe.Add(ref x, i), v1 = Unsafe.Add(ref x1, i), v2 = Unsafe.Add(ref x2, i), v3 = Unsafe.Add(ref x3, i);
            float a = ScalarOps.MultiplyAdd(a0, v0, Unsafe.Add(ref acc0, i));
            float b = ScalarOps.MultiplyAdd(b0, v0, Unsafe.Add(ref acc1, i));
            a = ScalarOps.MultiplyAdd(a1, v1, a);
            b = ScalarOps.MultiplyAdd(b1, v1, b);
            a = ScalarOps.MultiplyAdd(a2, v2, a);
            b = ScalarOps.MultiplyAdd(b2, v2, b);
            Unsafe.Add(ref acc0, i) = ScalarOps.MultiplyAdd(a3, v3, a);
            Unsafe.Add(ref acc1, i) = ScalarOps.MultiplyAdd(b3, v3, b);
        }
    }

    /// <summary>The keys lane (t, i) sees: lane = t·queryLength + i reads query head <c>firstHead + t</c>, row i.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static KeyRange LaneKeys<TMask>(in TMask mask, int batch, int firstHead, int lane, int queryLength)
        where TMask : unmanaged, IAttentionMask<TMask> =>
        mask.ForHead(batch, firstHead + lane / queryLength).Keys(lane % queryLength);

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
    /// acc += Σ weights[r]·v[r] over the rows r of <paramref name="seen"/> (relative to key j0) that the lane sees;
    /// v: [rows, valueDim] with row stride <paramref name="valueStride"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddSeenRows<TV, TOps, TMask>(in TMask mask, int batch, int firstHead, int lane, int queryLength, int j0, KeyRange seen,
                                                     float* v, nint valueStride, float* weights, float* acc, int valueDim)
        where TV : struct where TOps : struct, IFloatVector<TV> where TMask : unmanaged, IAttentionMask<TMask>
    {
        for (int r = seen.Start; r < seen.End; r++)
        {
            if (TMask.IsRange || mask.ForHead(batch, firstHead + lane / queryLength).IsVisible(lane % queryLength, j0 + r))
            {
                RowKernels.MultiplyAddRow<TV, TOps>(ref v[r * valueStride], weights[r], ref acc[0], valueDim);
            }
        }
    }
}
