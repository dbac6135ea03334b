using System.Runtime.CompilerServices;
namespace SelfAttention.Kernels;

/// <summary>
/// A validated attention call as pinned pointers and strides, so that work items (batch, head, query block) can run
/// on any thread. Strides are in floats. For one head the batch and head counts are 1.
/// <code>
/// query  row (b, i) of head h:    Query  + b·QueryBatchStride  + h·HeadDim                 + i·QueryRowStride
/// key    row (b, j) of kv head g: Key    + b·KeyBatchStride    + g·HeadDim                 + j·KeyRowStride
/// value  row (b, j) of kv head g: Value  + b·ValueBatchStride  + g·ValueDim                + j·ValueRowStride
/// output row (b, i) of head h:    Output + b·OutputBatchStride + h·ValueDim                + i·OutputRowStride
/// </code>
/// Query head h reads kv head <c>g = h / GroupSize</c>. <see cref="Weights"/> is null unless the call asked for the
/// weights: each head's <c>[QueryLength, KeyLength]</c> with row stride <see cref="WeightsRowStride"/>, heads
/// <see cref="WeightsHeadStride"/> apart (<see cref="WeightsRow"/>).
/// <para>
/// Every entry point builds it through <see cref="Create"/>, the one place that turns sizes and row strides into
/// the layout above (single head: batch 1, one head, the views' own strides; BSNH buffers and the KV cache: row
/// strides of Heads·HeadDim and so on, batch strides from the rows per batch).
/// </para>
/// </summary>
internal unsafe readonly struct AttentionProblem
{
    public float* Query { get; init; }
    public float* Key { get; init; }
    public float* Value { get; init; }
    public float* Output { get; init; }
    public float* Weights { get; init; }

    /// <summary>
    /// The element type of the keys and values: <see cref="KvCacheStorage.Single"/> (read from <see cref="Key"/> and
    /// <see cref="Value"/>) except for a low-precision KV cache, whose keys and values are read from
    /// <see cref="KeyStored"/> and <see cref="ValueStored"/> instead, with the same strides in elements (Int8 also
    /// through <see cref="KeyScales"/> and <see cref="ValueScales"/>; see <see cref="Widen"/>).
    /// </summary>
    public KvCacheStorage Storage { get; init; }

    /// <summary>
    /// Half storage whose every stored value is finite (no ±∞, no NaN: the cache knows as it writes them), so the decode
    /// kernels widen with <see cref="HalfFiniteFormat"/>, four operations per vector instead of nine.
    /// </summary>
    public bool StoredFinite { get; init; }

    /// <inheritdoc cref="Storage"/>
    public void* KeyStored { get; init; }

    /// <inheritdoc cref="Storage"/>
    public void* ValueStored { get; init; }

    /// <summary>Int8 storage: one float per <see cref="Widen.Int8Block"/> values of a head's row, <c>[rows][kvHeads·blocks]</c>.</summary>
    public float* KeyScales { get; init; }

    /// <inheritdoc cref="KeyScales"/>
    public float* ValueScales { get; init; }
    public nint WeightsRowStride { get; init; }

    /// <summary>Elements between the weights of consecutive heads, <c>(batch·Heads + head)</c> apart (a multi-head call's <c>[Batch, Heads, QueryLength, KeyLength]</c>); 0 for one head.</summary>
    public nint WeightsHeadStride { get; init; }

    /// <summary>Row i of head (batch, head)'s weights.</summary>
    public float* WeightsRow(int batch, int head, int i) => Weights + ((nint)batch * Heads + head) * WeightsHeadStride + i * WeightsRowStride;
    public nint QueryRowStride { get; init; }
    public nint KeyRowStride { get; init; }
    public nint ValueRowStride { get; init; }
    public nint OutputRowStride { get; init; }
    public nint QueryBatchStride { get; init; }
    public nint KeyBatchStride { get; init; }
    public nint ValueBatchStride { get; init; }
    public nint OutputBatchStride { get; init; }
    public int Batch { get; init; }
    public int Heads { get; init; }
    public int GroupSize { get; init; }
    public int QueryLength { get; init; }
    public int KeyLength { get; init; }
    public int HeadDim { get; init; }
    public int ValueDim { get; init; }
    public float Scale { get; init; }
    public bool IsCausal { get; init; }

    /// <summary>Where the causal mask and the window anchor the query rows (<see cref="AttentionOptions.CausalAlignment"/>).</summary>
    public CausalAlignment CausalAlignment { get; init; }

    /// <summary>The sliding window, or null for none (<see cref="AttentionOptions.Window"/>; an unbounded one counts as none).</summary>
    public AttentionWindow? Window { get; init; }

    /// <summary>
    /// Per-sequence key lengths, <c>[Batch]</c> pinned ints in <c>[0, KeyLength]</c>, or null: every sequence has
    /// <see cref="KeyLength"/> keys. Added with <c>with</c> by the BSNH entry point that takes lengths.
    /// </summary>
    public int* KeyLengths { get; init; }

    /// <summary>Per-sequence query lengths, as <see cref="KeyLengths"/>; null: every sequence has <see cref="QueryLength"/> rows.</summary>
    public int* QueryLengths { get; init; }

    /// <summary>The per-sequence lengths as masks read them.</summary>
    public Masks.SequenceFrame Frame => new(QueryLength, KeyLength, QueryLengths, KeyLengths);
    public AttentionNormalization Normalization { get; init; }

    /// <summary>Logit soft-capping: scores become <c>SoftCap·tanh(s / SoftCap)</c> after scaling; 0 for none (<see cref="AttentionOptions.SoftCap"/>).</summary>
    public float SoftCap { get; init; }

    /// <summary>ALiBi slopes, <c>[Heads]</c> pinned floats, or null for none (<see cref="AttentionModifiers.AlibiSlopes"/>).</summary>
    public float* AlibiSlopes { get; init; }

    /// <summary>Attention sinks, <c>[Heads]</c> pinned logits, or null for none (<see cref="AttentionModifiers.Sinks"/>).</summary>
    public float* Sinks { get; init; }

    /// <summary>Receives each row's log-sum-exp, <c>[Batch, Heads, QueryLength]</c>, or null (<see cref="AttentionModifiers.LogSumExp"/>).</summary>
    public float* LogSumExp { get; init; }

    /// <summary>An additive mask read at <see cref="DenseMask"/>, or null (<see cref="AttentionModifiers.AdditiveMask"/>).</summary>
    public float* AdditiveMask { get; init; }

    /// <summary>A boolean mask (bytes, non-zero = may attend) read at <see cref="DenseMask"/>, or null (<see cref="AttentionModifiers.BooleanMask"/>).</summary>
    public byte* BooleanMask { get; init; }

    /// <summary>The element strides of the dense mask.</summary>
    public Masks.DenseMaskLayout DenseMask { get; init; }

    /// <summary>
    /// True when the call has a score modifier (softcap, ALiBi, a dense mask), sinks or a log-sum-exp output: what the
    /// decode kernel does not serve yet.
    /// </summary>
    public bool HasModifiers => SoftCap != 0f || AlibiSlopes != null || Sinks != null || LogSumExp != null || AdditiveMask != null || BooleanMask != null;

    /// <summary>
    /// Elements between the log-sum-exp rows of consecutive heads: <see cref="QueryLength"/> for the
    /// <c>[Batch, Heads, QueryLength]</c> layout (what <see cref="Create"/> sets). A packed call, whose log-sum-exp is
    /// <c>[Heads, totalQueryRows]</c> (FlashAttention's varlen <c>softmax_lse</c>), runs one sequence at a time as batch 0
    /// with <see cref="LogSumExp"/> at the sequence's first row and this stride the total rows.
    /// </summary>
    public nint LogSumExpHeadStride { get; init; }

    /// <summary>Index of row i of head (batch, head) in <see cref="LogSumExp"/>.</summary>
    public nint LogSumExpIndex(int batch, int head, int i) => ((nint)batch * Heads + head) * LogSumExpHeadStride + i;

    /// <summary>Set by the dispatcher for the decode kernel: kv heads per work item.</summary>
    public int DecodeKvHeadsPerItem { get; init; }

    /// <summary>
    /// Set by the dispatcher for its work items: the mask (an <see cref="Masks.IAttentionMask{TSelf}"/> struct) on the
    /// dispatching thread's stack, which outlives every item because the dispatcher waits for them all.
    /// </summary>
    public void* Mask { get; init; }

    /// <summary>
    /// Builds the problem of a validated call. Row strides are in floats; a batch of query (output) rows is
    /// <paramref name="queryLength"/> rows apart, a batch of key (value) rows <paramref name="keyRowsPerBatch"/> rows apart
    /// (a KV cache's capacity, otherwise the key length). Weights, low-precision storage, lengths and the modifiers'
    /// buffers (ALiBi slopes, sinks, log-sum-exp, dense masks) are added with <c>with</c>; the softcap comes from the options.
    /// </summary>
    public static AttentionProblem Create(float* query, nint queryRowStride, float* key, nint keyRowStride, float* value, nint valueRowStride,
                                          float* output, nint outputRowStride, int batch, int heads, int kvHeads, int queryLength, int keyLength,
                                          int keyRowsPerBatch, int headDim, int valueDim, float scale, in AttentionOptions options) => new()
    {
        Query = query, Key = key, Value = value, Output = output,
        QueryRowStride = queryRowStride, KeyRowStride = keyRowStride, ValueRowStride = valueRowStride, OutputRowStride = outputRowStride,
        QueryBatchStride = queryLength * queryRowStride, KeyBatchStride = keyRowsPerBatch * keyRowStride,
        ValueBatchStride = keyRowsPerBatch * valueRowStride, OutputBatchStride = queryLength * outputRowStride,
        Batch = batch, Heads = heads, GroupSize = heads / kvHeads, QueryLength = queryLength, KeyLength = keyLength,
        HeadDim = headDim, ValueDim = valueDim, Scale = scale, IsCausal = options.IsCausal, Normalization = options.Normalization,
        CausalAlignment = options.CausalAlignment, Window = options.Window is { IsUnbounded: false } window ? window : null,
        SoftCap = options.SoftCap ?? 0f, LogSumExpHeadStride = queryLength,
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float* QueryHead(int batch, int head) => Query + batch * QueryBatchStride + (nint)head * HeadDim;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float* KeyHead(int batch, int head) => Key + batch * KeyBatchStride + (nint)(head / GroupSize) * HeadDim;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float* ValueHead(int batch, int head) => Value + batch * ValueBatchStride + (nint)(head / GroupSize) * ValueDim;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float* OutputHead(int batch, int head) => Output + batch * OutputBatchStride + (nint)head * ValueDim;
}
