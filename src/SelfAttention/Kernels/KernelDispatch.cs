using System.Runtime.Intrinsics;
using SelfAttention.Internal;

namespace SelfAttention.Kernels;

/// <summary>
/// Picks the vector width (512, 256, 128 bits, else scalar) and the kernel for a validated call, splits it into work
/// items (batch, head, block of query rows) and hands them to <see cref="WorkerPool"/>.
/// </summary>
internal static unsafe class KernelDispatch
{
    /// <summary>
    /// The most scratch the tiled and decode kernels may take per thread (64 MiB). Their scratch is O(tile) and far
    /// below this for any head a model uses (BERT-base: 25 K floats); a shape past it (a value dim in the millions)
    /// runs row by row instead, whose scratch is one row of scores.
    /// </summary>
    public const long MaxTileScratch = 1 << 24;

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void Run(in AttentionProblem problem, AttentionKernel kernel, int maxDegreeOfParallelism)
    {
        // Empty calls do no work: no query rows, no batch or no value channels leave nothing to write, and no keys
        // leave only zeros (the weights, if any, have no columns).
        if (problem.Batch == 0 || problem.QueryLength == 0 || problem.ValueDim == 0)
        {
            return;
        }

        if (problem.KeyLength == 0)
        {
            ClearOutput(problem);
            return;
        }

        int degree = maxDegreeOfParallelism == -1 ? Environment.ProcessorCount : Math.Max(1, maxDegreeOfParallelism);
        if (IsTiny(problem) && Vector128.IsHardwareAccelerated)
        {
            Run<Vector128<float>, Vector128Ops>(problem, kernel, degree);
        }
        else if (Vector512.IsHardwareAccelerated)
        {
            Run<Vector512<float>, Vector512Ops>(problem, kernel, degree);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            Run<Vector256<float>, Vector256Ops>(problem, kernel, degree);
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            Run<Vector128<float>, Vector128Ops>(problem, kernel, degree);
        }
        else
        {
            Run<float, ScalarOps>(problem, kernel, degree);
        }
    }

    /// <summary>
    /// Rows shorter than two 128-bit vectors (the textbook three-token examples): the wide loops would only set up,
    /// reduce empty accumulators and fall through to their scalar tails, so the 128-bit instantiation runs instead.
    /// </summary>
    private static bool IsTiny(in AttentionProblem problem) =>
        problem.HeadDim < 8 && problem.ValueDim < 8 && problem.KeyLength < 8;

    private enum Choice { RowByRow, Tiled, Decode, Exact }

    /// <summary>
    /// 2¹¹⁰. Past <c>scale·headDim</c> = 2¹¹⁰ (a scale above about 10³³/headDim, far from 1/√headDim) a float dot product
    /// whose terms are subnormal would lose more than 2⁻⁴⁰ of a scaled score, so every row is computed exactly.
    /// </summary>
    public const double ExactScaleBound = 1.298074214633707e33;

    /// <summary>
    /// The kernel that runs. Tiled and decode compute softmax without a weights output; anything else runs row by row.
    /// <see cref="AttentionKernel.Auto"/> takes decode for at most <see cref="DecodeAttention.MaxQueryLength"/> query
    /// rows against at least one key block (its lane set-up costs more than it saves on a few keys), tiled once a query
    /// block would be at least half full, and row by row otherwise.
    /// </summary>
    /// <remarks>
    /// A shape whose tile scratch would pass <see cref="MaxTileScratch"/> runs row by row, like the options the tiled
    /// and decode kernels do not serve; a Half KV cache, which only the decode kernel reads, is refused up front
    /// instead, with an ArgumentException, before anything is written.
    /// </remarks>
    private static Choice Choose<TV, TOps>(in AttentionProblem problem, AttentionKernel kernel)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        // First, for every storage: the exact path reads Half keys and values too.
        if ((double)problem.Scale * problem.HeadDim > ExactScaleBound)
        {
            return Choice.Exact;
        }

        bool decodeFits = DecodeAttention.ScratchLength(problem, 1) <= MaxTileScratch;
        if (problem.KeyHalf != null)
        {
            // Half keys and values (a KV cache) are read by the decode kernel only; the cache sends nothing else here.
            if (!decodeFits)
            {
                ThrowHelper.ThrowUnservable("query", "a Half KV cache step (decode scratch of GroupSize·queryLength·(ValueDim + 66) floats)",
                                            MaxTileScratch, DecodeAttention.ScratchLength(problem, 1));
            }

            return Choice.Decode;
        }

        Choice choice = Choice.RowByRow;
        if (problem.Normalization == AttentionNormalization.Softmax && problem.Weights == null)
        {
            bool decodes = problem.QueryLength <= DecodeAttention.MaxQueryLength;
            choice = kernel switch
            {
                AttentionKernel.Tiled => Choice.Tiled,
                AttentionKernel.Decode when decodes => Choice.Decode,
                AttentionKernel.Auto when decodes && problem.KeyLength >= DecodeAttention.KeyBlock => Choice.Decode,
                AttentionKernel.Auto when problem.QueryLength * 2 >= TiledAttention.QueryBlock<TV, TOps>() => Choice.Tiled,
                _ => Choice.RowByRow,
            };
        }

        bool fits = choice switch
        {
            Choice.Tiled => TiledAttention.ScratchLength(TiledAttention.QueryBlock<TV, TOps>(), problem.HeadDim, problem.ValueDim) <= MaxTileScratch,
            Choice.Decode => decodeFits,
            _ => true,
        };
        if (!fits)
        {
            choice = Choice.RowByRow;
        }

        if (choice == Choice.RowByRow && RowByRowAttention.ScratchLength(problem) > ThreadScratch.MaxLength)
        {
            ThrowHelper.ThrowUnservable("key", "the row-by-row kernel's scores row (keyLength floats)", ThreadScratch.MaxLength, problem.KeyLength);
        }

        return choice;
    }

    /// <summary>Zeros every output row (no keys: every row sees nothing), leaving pitch gaps and other heads' columns alone.</summary>
    private static void ClearOutput(in AttentionProblem problem)
    {
        for (int b = 0; b < problem.Batch; b++)
        {
            for (int h = 0; h < problem.Heads; h++)
            {
                float* o = problem.OutputHead(b, h);
                for (int i = 0; i < problem.QueryLength; i++)
                {
                    new Span<float>(o + i * problem.OutputRowStride, problem.ValueDim).Clear();
                }
            }
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void Run<TV, TOps>(in AttentionProblem problem, AttentionKernel kernel, int degree)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        switch (Choose<TV, TOps>(problem, kernel))
        {
            case Choice.Tiled:
                WorkerPool.Run(problem, ItemCount(problem, TiledAttention.ItemRows<TV, TOps>()), degree, &TiledItem<TV, TOps>);
                break;
            case Choice.Decode:
                // Chunking depends on the degree, but each lane's arithmetic does not, so results do not either.
                // Fewer kv heads per item when a chunk's scratch would pass the cap (Choose checked that one fits).
                int perItem = (int)Math.Min(DecodeAttention.KvHeadsPerItem(problem, degree), MaxTileScratch / DecodeAttention.ScratchLength(problem, 1));
                var decodeProblem = problem with { DecodeKvHeadsPerItem = perItem };
                int chunks = (problem.Heads / problem.GroupSize + decodeProblem.DecodeKvHeadsPerItem - 1) / decodeProblem.DecodeKvHeadsPerItem;
                WorkerPool.Run(decodeProblem, problem.Batch * chunks, degree, &DecodeItem<TV, TOps>);
                break;
            case Choice.Exact:
                WorkerPool.Run(problem, ItemCount(problem, RowByRowAttention.RowBlock), degree, &ExactItem);
                break;
            default:
                WorkerPool.Run(problem, ItemCount(problem, RowByRowAttention.RowBlock), degree, &RowItem<TV, TOps>);
                break;
        }
    }

    private static int ItemCount(in AttentionProblem problem, int rowsPerItem) =>
        problem.Batch * problem.Heads * ((problem.QueryLength + rowsPerItem - 1) / rowsPerItem);

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void DecodeItem<TV, TOps>(in AttentionProblem problem, int item)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        int perItem = problem.DecodeKvHeadsPerItem, kvHeads = problem.Heads / problem.GroupSize;
        int chunks = (kvHeads + perItem - 1) / perItem;
        int batch = item / chunks, first = item % chunks * perItem;
        Span<float> scratch = ThreadScratch.Get(DecodeAttention.ScratchLength(problem, perItem));
        DecodeAttention.RunChunk<TV, TOps>(problem, batch, first, Math.Min(perItem, kvHeads - first), scratch);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void TiledItem<TV, TOps>(in AttentionProblem problem, int item)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        int itemRows = TiledAttention.ItemRows<TV, TOps>();
        var (batch, head, block) = Decompose(problem, item, itemRows);
        Span<float> scratch = ThreadScratch.Get(TiledAttention.ScratchLength(TiledAttention.QueryBlock<TV, TOps>(), problem.HeadDim, problem.ValueDim));
        TiledAttention.RunBlock<TV, TOps>(problem, batch, head, block * itemRows, scratch);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void RowItem<TV, TOps>(in AttentionProblem problem, int item)
        where TV : struct where TOps : struct, IFloatVector<TV>
    {
        var (batch, head, block) = Decompose(problem, item, RowByRowAttention.RowBlock);
        RowByRowAttention.RunBlock<TV, TOps>(problem, batch, head, block * RowByRowAttention.RowBlock);
    }

    private static void ExactItem(in AttentionProblem problem, int item)
    {
        var (batch, head, block) = Decompose(problem, item, RowByRowAttention.RowBlock);
        int first = block * RowByRowAttention.RowBlock, end = Math.Min(problem.QueryLength, first + RowByRowAttention.RowBlock);
        for (int i = first; i < end; i++)
        {
            ExactRow.Compute(problem, batch, head, i);
        }
    }

    /// <summary>Item order is batch, then head, then query block, so neighbouring items share K and V in cache.</summary>
    private static (int Batch, int Head, int Block) Decompose(in AttentionProblem problem, int item, int rowsPerItem)
    {
        int blocksPerHead = (problem.QueryLength + rowsPerItem - 1) / rowsPerItem;
        int block = item % blocksPerHead;
        int rest = item / blocksPerHead;
        return (rest / problem.Heads, rest % problem.Heads, block);
    }
}
