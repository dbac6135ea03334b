using System.Runtime.Intrinsics;
using SelfAttention.Internal;
using SelfAttention.Kernels.Masks;

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

    /// <summary>
    /// Runs a validated call with the mask its options and modifiers describe: the one place where they become a mask
    /// struct, for every entry point (single head, BSNH, KV cache). The mask is built in stages, one per feature, in the
    /// order of operations: the score modifiers first (softcap, ALiBi, an additive mask, a boolean mask: each modifies
    /// after the ones before it), then the visibility masks (per-sequence lengths, causal, window). Each stage ANDs its
    /// struct onto what the earlier stages built (<see cref="Add{TStage, TMask, TNext}"/>), so every combination is one
    /// generic instantiation and none is written by hand; with no feature it is <see cref="NoMask"/>, and a single
    /// feature runs as its own struct, not ANDed with NoMask. A new built-in mask or modifier is one more stage here.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void Run(in AttentionProblem problem, AttentionKernel kernel, int maxDegreeOfParallelism) =>
        RunWithUser(problem, new NoMask(problem.KeyLength), kernel, maxDegreeOfParallelism);

    /// <summary>
    /// <see cref="Run(in AttentionProblem, AttentionKernel, int)"/> with a user's modifier (<see cref="UserMask{TUser}"/>)
    /// as the stage after the softcap: its score modification follows the softcap and precedes ALiBi and the additive
    /// mask, and its mask is ANDed with the others. <see cref="NoMask"/> for none.
    /// </summary>
    /// <param name="problem">The validated call.</param>
    /// <param name="user">The user's modifier, or NoMask.</param>
    /// <param name="kernel">The kernel the options ask for.</param>
    /// <param name="maxDegreeOfParallelism">As in the options.</param>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void RunWithUser<TUser>(in AttentionProblem problem, TUser user, AttentionKernel kernel, int maxDegreeOfParallelism)
        where TUser : unmanaged, IAttentionMask<TUser>
    {
        var run = new MaskRun(kernel, maxDegreeOfParallelism);
        if (problem.SoftCap > 0f)
        {
            Add<AlibiStage, SoftCapMask, TUser>(problem, new SoftCapMask(problem.SoftCap, problem.KeyLength), user, run);
        }
        else
        {
            AlibiStage.Next(problem, user, run);
        }
    }

    private readonly record struct MaskRun(AttentionKernel Kernel, int Degree);

    /// <summary>One stage of <see cref="Run(in AttentionProblem, AttentionKernel, int)"/>: adds its feature (when the call has it) to the mask built so far, then runs the next stage.</summary>
    private interface IStage
    {
        static abstract void Next<TMask>(in AttentionProblem problem, TMask mask, MaskRun run)
            where TMask : unmanaged, IAttentionMask<TMask>;
    }

    /// <summary>The mask built so far AND <paramref name="next"/>, then <typeparamref name="TStage"/>; an identity (NoMask, a user modifier that does nothing) on either side is dropped.</summary>
    private static void Add<TStage, TMask, TNext>(in AttentionProblem problem, TMask mask, TNext next, MaskRun run)
        where TStage : IStage
        where TMask : unmanaged, IAttentionMask<TMask>
        where TNext : unmanaged, IAttentionMask<TNext>
    {
        if (TMask.HidesNothing && !TMask.ModifiesScores)
        {
            TStage.Next(problem, next, run);
        }
        else if (TNext.HidesNothing && !TNext.ModifiesScores)
        {
            TStage.Next(problem, mask, run);
        }
        else
        {
            TStage.Next(problem, new And<TMask, TNext>(mask, next), run);
        }
    }

    private readonly struct AlibiStage : IStage
    {
        public static void Next<TMask>(in AttentionProblem problem, TMask mask, MaskRun run)
            where TMask : unmanaged, IAttentionMask<TMask>
        {
            if (problem.AlibiSlopes != null)
            {
                Add<AdditiveStage, TMask, AlibiMask>(problem, mask, AlibiMask.Create(problem.AlibiSlopes, problem.Frame), run);
            }
            else
            {
                AdditiveStage.Next(problem, mask, run);
            }
        }
    }

    /// <summary>The call's additive mask, with its tile-order copy when the tiled kernel gains from one (<see cref="TransposedMask.Prepare"/>).</summary>
    private static AdditiveMask CreateAdditive(in AttentionProblem problem, MaskRun run) =>
        new AdditiveMask(problem.AdditiveMask, problem.DenseMask, problem.KeyLength, TransposedMask.Prepare(problem, run.Kernel));

    /// <summary>The call's boolean mask, with the tile-order copy of its biases when the tiled kernel gains from one.</summary>
    private static BooleanMask CreateBoolean(in AttentionProblem problem, MaskRun run) =>
        new BooleanMask(problem.BooleanMask, problem.DenseMask, problem.KeyLength, TransposedMask.Prepare(problem, run.Kernel));

    private readonly struct AdditiveStage : IStage
    {
        public static void Next<TMask>(in AttentionProblem problem, TMask mask, MaskRun run)
            where TMask : unmanaged, IAttentionMask<TMask>
        {
            if (problem.AdditiveMask != null)
            {
                Add<BooleanStage, TMask, AdditiveMask>(problem, mask, CreateAdditive(problem, run), run);
            }
            else
            {
                BooleanStage.Next(problem, mask, run);
            }
        }
    }

    private readonly struct BooleanStage : IStage
    {
        public static void Next<TMask>(in AttentionProblem problem, TMask mask, MaskRun run)
            where TMask : unmanaged, IAttentionMask<TMask>
        {
            if (problem.BooleanMask != null)
            {
                Add<LengthsStage, TMask, BooleanMask>(problem, mask, CreateBoolean(problem, run), run);
            }
            else
            {
                LengthsStage.Next(problem, mask, run);
            }
        }
    }

    private readonly struct LengthsStage : IStage
    {
        public static void Next<TMask>(in AttentionProblem problem, TMask mask, MaskRun run)
            where TMask : unmanaged, IAttentionMask<TMask>
        {
            if (problem.Frame.IsRagged)
            {
                Add<CausalStage, TMask, LengthsMask>(problem, mask, LengthsMask.Create(problem.Frame), run);
            }
            else
            {
                CausalStage.Next(problem, mask, run);
            }
        }
    }

    private readonly struct CausalStage : IStage
    {
        public static void Next<TMask>(in AttentionProblem problem, TMask mask, MaskRun run)
            where TMask : unmanaged, IAttentionMask<TMask>
        {
            if (problem.IsCausal)
            {
                Add<WindowStage, TMask, CausalMask>(problem, mask, CausalMask.Create(problem.CausalAlignment, problem.Frame), run);
            }
            else
            {
                WindowStage.Next(problem, mask, run);
            }
        }
    }

    private readonly struct WindowStage : IStage
    {
        public static void Next<TMask>(in AttentionProblem problem, TMask mask, MaskRun run)
            where TMask : unmanaged, IAttentionMask<TMask>
        {
            if (problem.Window is AttentionWindow window)
            {
                Add<LastStage, TMask, WindowMask>(problem, mask, WindowMask.Create(window, problem.CausalAlignment, problem.Frame), run);
            }
            else
            {
                LastStage.Next(problem, mask, run);
            }
        }
    }

    private readonly struct LastStage : IStage
    {
        public static void Next<TMask>(in AttentionProblem problem, TMask mask, MaskRun run)
            where TMask : unmanaged, IAttentionMask<TMask> => Run(problem, mask, run.Kernel, run.Degree);
    }

    /// <summary>
    /// Runs a validated call under <paramref name="mask"/> (which replaces <see cref="AttentionProblem.IsCausal"/>): the
    /// kernel and width <see cref="Resolve"/> names, over work items (batch, head, block of query rows).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void Run<TMask>(in AttentionProblem problem, TMask mask, AttentionKernel kernel, int maxDegreeOfParallelism)
        where TMask : unmanaged, IAttentionMask<TMask>
    {
        KernelResolution resolution = Resolve(problem, kernel);
        if (resolution.Kernel == KernelChoice.None)
        {
            if (problem.Batch != 0 && problem.QueryLength != 0 && problem.ValueDim != 0)
            {
                ClearOutput(problem);
            }

            if (problem.LogSumExp != null)
            {
                // No keys (or no value channels, where the softmax still has a denominator): every row's log-sum-exp is
                // computed as usual when there are keys, otherwise it is the sink's (or −∞).
                WriteLogSumExpWithoutOutput(problem, mask);
            }

            return;
        }

        // Every work item reads the mask through this pointer; WorkerPool.Run returns only after the last item ends.
        var masked = problem with { Mask = &mask };
        int degree = maxDegreeOfParallelism == -1 ? Environment.ProcessorCount : Math.Max(1, maxDegreeOfParallelism);
        switch (resolution.VectorBits)
        {
            case 512:
                Run<Vector512<float>, Vector512Ops, TMask>(masked, resolution.Kernel, degree);
                break;
            case 256:
                Run<Vector256<float>, Vector256Ops, TMask>(masked, resolution.Kernel, degree);
                break;
            case 128:
                Run<Vector128<float>, Vector128Ops, TMask>(masked, resolution.Kernel, degree);
                break;
            default:
                Run<float, ScalarOps, TMask>(masked, resolution.Kernel, degree);
                break;
        }
    }

    /// <summary>
    /// The kernel and vector width that <see cref="Run{TMask}"/> uses for this call, and why it is not the one asked
    /// for when it is not (a constant string: resolving allocates nothing): the one place that decides, so tests can
    /// assert that a test named for a kernel runs it.
    /// Throws, as the run would, for a shape no kernel can serve.
    /// </summary>
    public static KernelResolution Resolve(in AttentionProblem problem, AttentionKernel kernel)
    {
        // Empty calls do no work: no query rows, no batch or no value channels leave nothing to write, and no keys
        // leave only zeros (the weights, if any, have no columns).
        if (problem.Batch == 0 || problem.QueryLength == 0 || problem.ValueDim == 0 || problem.KeyLength == 0)
        {
            return new KernelResolution(KernelChoice.None, 0, kernel == AttentionKernel.Auto ? null : "an empty call: nothing to compute");
        }

        int bits = IsTiny(problem) && Vector128.IsHardwareAccelerated ? 128
            : Vector512.IsHardwareAccelerated ? 512
            : Vector256.IsHardwareAccelerated ? 256
            : Vector128.IsHardwareAccelerated ? 128
            : 32;
        var (choice, fallback) = Choose(problem, kernel, bits == 32 ? 1 : bits / 32);
        return new KernelResolution(choice, bits, fallback);
    }

    /// <summary>
    /// Rows shorter than two 128-bit vectors (the textbook three-token examples): the wide loops would only set up,
    /// reduce empty accumulators and fall through to their scalar tails, so the 128-bit instantiation runs instead.
    /// </summary>
    private static bool IsTiny(in AttentionProblem problem) =>
        problem.HeadDim < 8 && problem.ValueDim < 8 && problem.KeyLength < 8;

    /// <summary>
    /// 2¹¹⁰. Past <c>scale·headDim</c> = 2¹¹⁰ (a scale above about 10³³/headDim, far from 1/√headDim) a float dot product
    /// whose terms are subnormal would lose more than 2⁻⁴⁰ of a scaled score, so every row is computed exactly.
    /// </summary>
    public const double ExactScaleBound = 1.298074214633707e33;

    /// <summary>
    /// The kernel that runs, and the reason when it is not the requested one. Tiled and decode compute softmax without
    /// a weights output; anything else runs row by row. <see cref="AttentionKernel.Auto"/> takes decode for at most
    /// <see cref="DecodeAttention.MaxQueryLength"/> query rows against at least one key block (its lane set-up costs
    /// more than it saves on a few keys), tiled from <see cref="TiledAttention.AutoMinimumRows"/> query rows on, and row by row otherwise.
    /// </summary>
    /// <remarks>
    /// A shape whose tile scratch would pass <see cref="MaxTileScratch"/> runs row by row, like the options the tiled
    /// and decode kernels do not serve; a Half KV cache, which only the decode kernel reads, is refused up front
    /// instead, with an ArgumentException, before anything is written.
    /// </remarks>
    private static (KernelChoice Choice, string? Fallback) Choose(in AttentionProblem problem, AttentionKernel kernel, int lanes)
    {
        // First, for every storage: the exact path reads low-precision keys and values too.
        if ((double)problem.Scale * problem.HeadDim > ExactScaleBound)
        {
            return (KernelChoice.Exact, kernel == AttentionKernel.Auto ? null : "scale·headDim above 2¹¹⁰: every row is computed exactly");
        }

        bool decodeFits = DecodeAttention.ScratchLength(problem, 1) <= MaxTileScratch;
        if (problem.Storage != KvCacheStorage.Single)
        {
            // Low-precision keys and values (a KV cache) are read by the decode kernel only; the cache sends nothing else here.
            if (!decodeFits)
            {
                ThrowHelper.ThrowUnservable("query", "a low-precision KV cache step (decode scratch of GroupSize·queryLength·(ValueDim + 66) floats)",
                                            MaxTileScratch, DecodeAttention.ScratchLength(problem, 1));
            }

            return (KernelChoice.Decode, kernel is AttentionKernel.Auto or AttentionKernel.Decode ? null : "a low-precision KV cache step: only the decode kernel reads low-precision storage");
        }

        KernelChoice choice = KernelChoice.RowByRow;
        string? fallback = null;
        bool decodes = problem.QueryLength <= DecodeAttention.MaxQueryLength;
        if (problem.Normalization == AttentionNormalization.Softmax && problem.Weights == null)
        {
            choice = kernel switch
            {
                AttentionKernel.Tiled => KernelChoice.Tiled,
                AttentionKernel.Decode when decodes => KernelChoice.Decode,
                AttentionKernel.Auto when decodes && problem.KeyLength >= DecodeAttention.KeyBlock => KernelChoice.Decode,
                AttentionKernel.Auto when problem.QueryLength >= TiledAttention.AutoMinimumRows(lanes) => KernelChoice.Tiled,
                _ => KernelChoice.RowByRow,
            };
        }
        else if (kernel is AttentionKernel.Tiled or AttentionKernel.Decode)
        {
            fallback = problem.Weights != null ? "a weights output: only the row-by-row kernel writes weights" : "sum normalisation: only the row-by-row kernel divides by the plain sum";
        }

        if (kernel == AttentionKernel.Decode && !decodes && fallback == null)
        {
            fallback = "more query rows than the decode kernel takes (DecodeAttention.MaxQueryLength = 8)";
        }

        bool fits = choice switch
        {
            KernelChoice.Tiled => TiledAttention.ScratchLength(TiledAttention.QueryBlock(lanes), problem.HeadDim, problem.ValueDim) <= MaxTileScratch,
            KernelChoice.Decode => decodeFits,
            _ => true,
        };
        if (!fits)
        {
            choice = KernelChoice.RowByRow;
            fallback ??= kernel == AttentionKernel.Auto ? null : "the tile scratch would pass MaxTileScratch";
        }

        if (choice == KernelChoice.RowByRow && RowByRowAttention.ScratchLength(problem) > ThreadScratch.MaxLength)
        {
            ThrowHelper.ThrowUnservable("key", "the row-by-row kernel's scores row (keyLength floats)", ThreadScratch.MaxLength, problem.KeyLength);
        }

        return (choice, fallback);
    }

    /// <summary>
    /// The log-sum-exp of an empty call: with keys but no value channels, each row through <see cref="ExactRow"/> (which
    /// writes nothing else then); with no keys, the sink's (or −∞) for every row.
    /// </summary>
    private static void WriteLogSumExpWithoutOutput<TMask>(in AttentionProblem problem, TMask mask)
        where TMask : unmanaged, IAttentionMask<TMask>
    {
        for (int b = 0; b < problem.Batch; b++)
        {
            for (int h = 0; h < problem.Heads; h++)
            {
                TMask bound = mask.ForHead(b, h);
                for (int i = 0; i < problem.QueryLength; i++)
                {
                    if (problem.KeyLength == 0)
                    {
                        OnlineSoftmax.WriteEmptyRow(problem, b, h, i);
                    }
                    else
                    {
                        ExactRow.Compute(problem, bound, b, h, i);
                    }
                }
            }
        }
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
    private static void Run<TV, TOps, TMask>(in AttentionProblem problem, KernelChoice choice, int degree)
        where TV : struct where TOps : struct, IFloatVector<TV> where TMask : unmanaged, IAttentionMask<TMask>
    {
        switch (choice)
        {
            case KernelChoice.Tiled:
                WorkerPool.Run(problem, ItemCount(problem, TiledAttention.ItemRows<TV, TOps>()), degree, &TiledItem<TV, TOps, TMask>);
                break;
            case KernelChoice.Decode:
                // Chunking depends on the degree, but each lane's arithmetic does not, so results do not either.
                // Fewer kv heads per item when a chunk's scratch would pass the cap (Choose checked that one fits).
                int perItem = (int)Math.Min(DecodeAttention.KvHeadsPerItem(problem, degree), MaxTileScratch / DecodeAttention.ScratchLength(problem, 1));
                var decodeProblem = problem with { DecodeKvHeadsPerItem = perItem };
                int chunks = (problem.Heads / problem.GroupSize + decodeProblem.DecodeKvHeadsPerItem - 1) / decodeProblem.DecodeKvHeadsPerItem;
                WorkerPool.Run(decodeProblem, problem.Batch * chunks, degree, &DecodeItem<TV, TOps, TMask>);
                break;
            case KernelChoice.Exact:
                WorkerPool.Run(problem, ItemCount(problem, RowByRowAttention.RowBlock), degree, &ExactItem<TMask>);
                break;
            default:
                WorkerPool.Run(problem, ItemCount(problem, RowByRowAttention.RowBlock), degree, &RowItem<TV, TOps, TMask>);
                break;
        }
    }

    private static int ItemCount(in AttentionProblem problem, int rowsPerItem) =>
        problem.Batch * problem.Heads * ((problem.QueryLength + rowsPerItem - 1) / rowsPerItem);

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void DecodeItem<TV, TOps, TMask>(in AttentionProblem problem, int item)
        where TV : struct where TOps : struct, IFloatVector<TV> where TMask : unmanaged, IAttentionMask<TMask>
    {
        int perItem = problem.DecodeKvHeadsPerItem, kvHeads = problem.Heads / problem.GroupSize;
        int chunks = (kvHeads + perItem - 1) / perItem;
        int batch = item / chunks, first = item % chunks * perItem;
        Span<float> scratch = ThreadScratch.Get(DecodeAttention.ScratchLength(problem, perItem));
        DecodeAttention.RunChunk<TV, TOps, TMask>(problem, *(TMask*)problem.Mask, batch, first, Math.Min(perItem, kvHeads - first), scratch);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void TiledItem<TV, TOps, TMask>(in AttentionProblem problem, int item)
        where TV : struct where TOps : struct, IFloatVector<TV> where TMask : unmanaged, IAttentionMask<TMask>
    {
        int itemRows = TiledAttention.ItemRows<TV, TOps>();
        var (batch, head, block) = Decompose(problem, item, itemRows);
        Span<float> scratch = ThreadScratch.Get(TiledAttention.ScratchLength(TiledAttention.QueryBlock<TV, TOps>(), problem.HeadDim, problem.ValueDim));
        TiledAttention.RunBlock<TV, TOps, TMask>(problem, (*(TMask*)problem.Mask).ForHead(batch, head), batch, head, block * itemRows, scratch);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void RowItem<TV, TOps, TMask>(in AttentionProblem problem, int item)
        where TV : struct where TOps : struct, IFloatVector<TV> where TMask : unmanaged, IAttentionMask<TMask>
    {
        var (batch, head, block) = Decompose(problem, item, RowByRowAttention.RowBlock);
        RowByRowAttention.RunBlock<TV, TOps, TMask>(problem, (*(TMask*)problem.Mask).ForHead(batch, head), batch, head, block * RowByRowAttention.RowBlock);
    }

    private static void ExactItem<TMask>(in AttentionProblem problem, int item)
        where TMask : unmanaged, IAttentionMask<TMask>
    {
        var (batch, head, block) = Decompose(problem, item, RowByRowAttention.RowBlock);
        TMask mask = (*(TMask*)problem.Mask).ForHead(batch, head);
        int first = block * RowByRowAttention.RowBlock, end = Math.Min(problem.QueryLength, first + RowByRowAttention.RowBlock);
        for (int i = first; i < end; i++)
        {
            ExactRow.Compute(problem, mask, batch, head, i);
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

/// <summary>A kernel <see cref="KernelDispatch"/> can run.</summary>
internal enum KernelChoice
{
    /// <summary>Nothing to compute (an empty call); at most the output is zeroed.</summary>
    None,

    /// <summary><see cref="RowByRowAttention"/>.</summary>
    RowByRow,

    /// <summary><see cref="TiledAttention"/>.</summary>
    Tiled,

    /// <summary><see cref="DecodeAttention"/>.</summary>
    Decode,

    /// <summary>Every row through <see cref="ExactRow"/>.</summary>
    Exact,
}

/// <summary>What <see cref="KernelDispatch.Resolve"/> decided: the kernel, its vector width in bits (32: scalar), and why it is not the requested kernel (null when it is, or when Auto was asked).</summary>
internal readonly record struct KernelResolution(KernelChoice Kernel, int VectorBits, string? Fallback);
