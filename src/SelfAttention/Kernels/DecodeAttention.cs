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
/// One core reads memory fastest when many cache misses are in flight at once, so K and V are read eight rows side by
/// side (eight sequential runs for the hardware prefetchers), through inlined kernels that keep the loads back to
/// back, with each group of four dot products reduced together. Against a plain vector sum over the same K and V,
/// timed in the same rounds, this reads at about 91 % of its speed at (32, 1, 4096, 128), where four rows at a time
/// through called kernels read at about 78 %. Software prefetch does not help: prefetching 8 or 16 rows ahead into
/// L2, for K, V or both, made the decode 5–12 % slower, so the eight-row path has none. The four-row path (Half
/// storage, head dims that are not a multiple of the vector width, a block's last rows) scores through
/// <see cref="RowKernels.Scores{TV, TOps}"/>, which prefetches K eight rows ahead.
/// </para>
/// <para>
/// Masks (<see cref="Masks.IAttentionMask{TSelf}"/>): the chunk reads only the key blocks inside the union of its lanes'
/// key ranges; each lane's softmax and value sums take the keys of its own range (and, for a mask that is not a range,
/// only the visible ones), through <see cref="OnlineSoftmax.StepRow{TV, TOps}"/>.
/// </para>
/// <para>
/// Scratch per work item (floats): scores <c>[lanes][KeyBlock]</c>, accumulators <c>[lanes][valueDim]</c>, then m and l
/// <c>[lanes]</c> each, with <c>lanes = kvHeadsInChunk · groupSize · queryLength</c>.
/// </para>
/// </summary>
internal static unsafe class DecodeAttention
{
    /// <summary>The longest query this kernel takes; beyond it K and V are reused enough for the tiled kernel.</summary>
    public const int MaxQueryLength = 4;

    /// <summary>Whether this kernel can run a call: softmax over at most <see cref="MaxQueryLength"/> query rows (it is the one kernel that reads Half keys and values).</summary>
    public static bool ServesInPlace(int queryLength, in AttentionOptions options) =>
        queryLength <= MaxQueryLength && options.Normalization == AttentionNormalization.Softmax;

    /// <summary>Keys per online-softmax step.</summary>
    public const int KeyBlock = 64;

    /// <summary>Kv heads per work item: enough for long contiguous runs, few enough to share the heads among threads.</summary>
    public static int KvHeadsPerItem(in AttentionProblem p, int degree) =>
        Math.Max(1, (p.Heads / p.GroupSize + degree - 1) / degree);

    /// <summary>Scratch floats one work item of <paramref name="kvHeadsPerItem"/> kv heads needs (in long: it can pass <see cref="int.MaxValue"/> for valid shapes).</summary>
    public static long ScratchLength(in AttentionProblem p, int kvHeadsPerItem)
    {
        long lanes = (long)kvHeadsPerItem * p.GroupSize * p.QueryLength;
        long converted = p.KeyHalf == null ? 0 : 4L * Math.Max(p.HeadDim, p.ValueDim);
        return lanes * (KeyBlock + (long)p.ValueDim + 2) + converted;
    }

    /// <summary>Computes every query row of the query heads that read kv heads <c>[firstKvHead, firstKvHead + kvHeadCount)</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunChunk<TV, TOps, TMask>(in AttentionProblem p, TMask mask, int batch, int firstKvHead, int kvHeadCount, Span<float> scratchSpan)
        where TV : struct where TOps : struct, IFloatVector<TV> where TMask : unmanaged, IAttentionMask<TMask>
    {
        int queryLength = p.QueryLength, keyLength = p.KeyLength, headDim = p.HeadDim, valueDim = p.ValueDim, group = p.GroupSize;
        int lanesPerKvHead = group * queryLength, lanes = kvHeadCount * lanesPerKvHead;
        Debug.Assert(scratchSpan.Length >= ScratchLength(p, kvHeadCount), "scratch shorter than ScratchLength");
        Debug.Assert(queryLength is > 0 and <= MaxQueryLength && firstKvHead + kvHeadCount <= p.Heads / group, "chunk outside the problem");
        fixed (float* scratch = scratchSpan)
        {
            float* scores = scratch;                        // [lanes][KeyBlock]
            float* acc = scores + lanes * KeyBlock;          // [lanes][valueDim]
            float* m = acc + lanes * valueDim;               // [lanes]
            float* l = m + lanes;                            // [lanes]
            float* rows = l + lanes;                         // Half storage: [4][max(headDim, valueDim)], one head's piece of four rows
            new Span<float>(acc, lanes * valueDim).Clear();
            new Span<float>(m, lanes).Fill(float.NegativeInfinity);
            new Span<float>(l, lanes).Clear();

            // Lane (g, t, i): kv head firstKvHead + g, query head (firstKvHead + g)·group + t, query row i.
            float* k = p.KeyHead(batch, firstKvHead * group);
            float* v = p.ValueHead(batch, firstKvHead * group);
            Half* kHalf = p.KeyHalf == null ? null : p.KeyHeadHalf(batch, firstKvHead * group);
            Half* vHalf = p.ValueHalf == null ? null : p.ValueHeadHalf(batch, firstKvHead * group);
            // Keys any lane sees: the union of the lanes' ranges, from a multiple of KeyBlock.
            int keyStart = 0, keyEnd = keyLength;
            if (!TMask.HidesNothing)
            {
                keyStart = int.MaxValue;
                keyEnd = 0;
                for (int lane = 0; lane < lanes; lane++)
                {
                    KeyRange keys = LaneKeys(mask, batch, firstKvHead * group, lane, queryLength);
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

                // Scores, eight key rows at a time: the chunk's kv heads are adjacent in each row, so this reads eight
                // sequential runs side by side, and each lane's query feeds eight keys per load. Float storage whose
                // head fills whole vectors takes the inlined eight-row kernel; the rest (and a block's last rows) four
                // rows at a time. The two loops stay apart: one loop choosing its step per group measured 3 % slower.
                int jj0 = 0;
                if (kHalf == null && headDim % TOps.Count == 0)
                {
                    for (; jj0 + 8 <= bk; jj0 += 8)
                    {
                        float* kRow = k + (j0 + jj0) * p.KeyRowStride;
                        for (int g = 0; g < kvHeadCount; g++)
                        {
                            for (int t = 0; t < group; t++)
                            {
                                float* q = p.QueryHead(batch, (firstKvHead + g) * group + t);
                                for (int i = 0; i < queryLength; i++)
                                {
                                    int lane = (g * group + t) * queryLength + i;
                                    RowKernels.ScoresEightRows<TV, TOps>(ref q[i * p.QueryRowStride], ref kRow[g * headDim], p.KeyRowStride, headDim, p.Scale, ref scores[lane * KeyBlock + jj0]);
                                }
                            }
                        }
                    }
                }

                for (int jj = jj0; jj < bk; jj += 4)
                {
                    int rowsNow = Math.Min(4, bk - jj);
                    float* kRow = k + (j0 + jj) * p.KeyRowStride;
                    nint kStride = kHalf == null ? p.KeyRowStride : headDim;
                    for (int g = 0; g < kvHeadCount; g++)
                    {
                        float* kj = kRow + g * headDim;
                        if (kHalf != null)
                        {
                            // Half storage: widen this head's piece of the four rows into L1; memory sees 2 bytes per element.
                            Widen(kHalf + (j0 + jj) * p.KeyRowStride + g * headDim, p.KeyRowStride, rowsNow, headDim, rows);
                            kj = rows;
                        }

                        for (int t = 0; t < group; t++)
                        {
                            float* q = p.QueryHead(batch, (firstKvHead + g) * group + t);
                            for (int i = 0; i < queryLength; i++)
                            {
                                int lane = (g * group + t) * queryLength + i;
                                RowKernels.Scores<TV, TOps>(ref q[i * p.QueryRowStride], ref kj[0], kStride, rowsNow, headDim, p.Scale, ref scores[lane * KeyBlock + jj]);
                            }
                        }
                    }
                }

                // Online softmax per lane over this block: a lane sees the keys of its range (a causal lane a prefix).
                for (int lane = 0; lane < lanes; lane++)
                {
                    KeyRange visible = LaneKeys(mask, batch, firstKvHead * group, lane, queryLength).Within(j0, bk);
                    float* s = scores + lane * KeyBlock;
                    if (!RowKernels.AllFinite<TV, TOps>(ref s[visible.Start], visible.Count))
                    {
                        // Float overflow (or ±∞/NaN in the inputs): l = NaN marks the lane for the exact recompute at the end.
                        l[lane] = float.NaN;
                    }

                    if (!TMask.IsRange)
                    {
                        // After the overflow test, so that a masked −∞ is not taken for an overflow.
                        MaskScores(mask.ForHead(batch, firstKvHead * group + lane / queryLength), lane % queryLength, j0, s, visible);
                    }

                    float alpha = OnlineSoftmax.StepRow<TV, TOps>(s, bk, visible, ref m[lane], ref l[lane]);
                    if (alpha != 1f)
                    {
                        RowKernels.Scale<TV, TOps>(ref acc[lane * valueDim], valueDim, alpha);
                    }
                }

                // Values in memory order, eight key rows at a time for float storage, then four; a lane whose mask cuts
                // the rows adds only the rows it sees, so a NaN or ∞ behind the mask cannot leak in as 0·∞.
                jj0 = 0;
                if (vHalf == null)
                {
                    for (; jj0 + 8 <= bk; jj0 += 8)
                    {
                        float* vRow = v + (j0 + jj0) * p.ValueRowStride;
                        for (int g = 0; g < kvHeadCount; g++)
                        {
                            float* vj = vRow + g * valueDim;
                            for (int lane = g * lanesPerKvHead; lane < (g + 1) * lanesPerKvHead; lane++)
                            {
                                float* weights = scores + lane * KeyBlock + jj0;
                                KeyRange seen = TMask.HidesNothing ? new KeyRange(0, 8) : LaneKeys(mask, batch, firstKvHead * group, lane, queryLength).Within(j0 + jj0, 8);
                                if (TMask.IsRange && seen.Count == 8)
                                {
                                    RowKernels.MultiplyAddEightRows<TV, TOps>(ref vj[0], p.ValueRowStride, ref weights[0], ref acc[lane * valueDim], valueDim);
                                    continue;
                                }

                                AddSeenRows<TV, TOps, TMask>(mask, batch, firstKvHead * group, lane, queryLength, j0 + jj0, seen, vj, p.ValueRowStride, weights, acc + lane * valueDim, valueDim);
                            }
                        }
                    }
                }

                for (int jj = jj0; jj < bk; jj += 4)
                {
                    int rowsNow = Math.Min(4, bk - jj);
                    float* vRow = v + (j0 + jj) * p.ValueRowStride;
                    nint vStride = vHalf == null ? p.ValueRowStride : valueDim;
                    for (int g = 0; g < kvHeadCount; g++)
                    {
                        float* vj = vRow + g * valueDim;
                        if (vHalf != null)
                        {
                            Widen(vHalf + (j0 + jj) * p.ValueRowStride + g * valueDim, p.ValueRowStride, rowsNow, valueDim, rows);
                            vj = rows;
                        }

                        for (int lane = g * lanesPerKvHead; lane < (g + 1) * lanesPerKvHead; lane++)
                        {
                            float* weights = scores + lane * KeyBlock + jj;
                            KeyRange seen = TMask.HidesNothing ? new KeyRange(0, rowsNow) : LaneKeys(mask, batch, firstKvHead * group, lane, queryLength).Within(j0 + jj, rowsNow);
                            if (TMask.IsRange && seen.Count == 4)
                            {
                                RowKernels.MultiplyAddFourRows<TV, TOps>(ref vj[0], vStride, weights[0], weights[1], weights[2], weights[3], ref acc[lane * valueDim], valueDim);
                                continue;
                            }

                            AddSeenRows<TV, TOps, TMask>(mask, batch, firstKvHead * group, lane, queryLength, j0 + jj, seen, vj, vStride, weights, acc + lane * valueDim, valueDim);
                        }
                    }
                }
            }

            // Output row = acc / l; a lane that saw no key (l = 0) is zero, and one whose float scores left float's
            // range (l < 1, or a non-finite output) is recomputed exactly.
            for (int lane = 0; lane < lanes; lane++)
            {
                int i = lane % queryLength, head = firstKvHead * group + lane / queryLength;
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

    // destination[r][0..run) = (float)source[r·sourceStride + 0..run) for r < rows.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Widen(Half* source, nint sourceStride, int rows, int run, float* destination)
    {
        for (int r = 0; r < rows; r++)
        {
            System.Numerics.Tensors.TensorPrimitives.ConvertToSingle(new ReadOnlySpan<Half>(source + r * sourceStride, run), new Span<float>(destination + r * run, run));
        }
    }
}
