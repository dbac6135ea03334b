using CommunityToolkit.HighPerformance;
using SelfAttention.Internal;
using SelfAttention.Kernels;
using SelfAttention.Kernels.Masks;

namespace SelfAttention;

/// <summary>
/// Scaled dot-product attention, <c>output = normalise(mask(scale · Q·Kᵀ)) · V</c>, with SIMD kernels for the CPU at
/// hand (AVX-512, AVX2, Arm NEON, scalar). Every entry point validates all of its arguments before it writes anything,
/// then runs one kernel; a steady-state call allocates nothing.
/// </summary>
/// <remarks>
/// Semantics: the scale defaults to <c>1/√headDim</c>; the causal mask and the sliding window are aligned bottom-right
/// unless <see cref="AttentionOptions.CausalAlignment"/> says top-left (see <see cref="AttentionOptions.IsCausal"/> and
/// <see cref="AttentionOptions.Window"/>); a query row that can see no key gets output 0 and weights 0; softmax always
/// subtracts the row maximum; NaN in the inputs gives NaN in the affected output rows. The reference implementation with
/// the same semantics is <see cref="Reference.NaiveAttention"/>.
/// </remarks>
public static unsafe class Attention
{
    /// <summary>Computes one head of attention.</summary>
    /// <param name="query">Queries, <c>[queryLength, headDim]</c>; a pitch is allowed, so a head inside a larger buffer is a view.</param>
    /// <param name="key">Keys, <c>[keyLength, headDim]</c>; a pitch is allowed.</param>
    /// <param name="value">Values, <c>[keyLength, valueDim]</c>; a pitch is allowed.</param>
    /// <param name="output">Receives the attention output, <c>[queryLength, valueDim]</c>; pitch gaps are never written. Must not overlap the inputs.</param>
    /// <param name="options">Scale, causal mask, normalisation and threads.</param>
    /// <exception cref="ArgumentException">A size does not match, the output overlaps an input, or an option is out of range; nothing has been written.</exception>
    public static void Compute(ReadOnlySpan2D<float> query, ReadOnlySpan2D<float> key, ReadOnlySpan2D<float> value,
                               Span2D<float> output, AttentionOptions options = default)
    {
        float scale = AttentionValidation.ValidateSingleHead(query, key, value, output, default, hasWeights: false, options);
        RunSingleHead(query, key, value, output, default, scale, options);
    }

    /// <summary>Computes one head of attention and writes the attention weights as well.</summary>
    /// <param name="query">Queries, <c>[queryLength, headDim]</c>; a pitch is allowed.</param>
    /// <param name="key">Keys, <c>[keyLength, headDim]</c>; a pitch is allowed.</param>
    /// <param name="value">Values, <c>[keyLength, valueDim]</c>; a pitch is allowed.</param>
    /// <param name="output">Receives the attention output, <c>[queryLength, valueDim]</c>.</param>
    /// <param name="weights">Receives the normalised weights, <c>[queryLength, keyLength]</c>; masked entries are 0. Must not overlap the inputs or the output.</param>
    /// <param name="options">Scale, causal mask, normalisation and threads.</param>
    /// <exception cref="ArgumentException">A size does not match, an output overlaps an input or the other output, or an option is out of range; nothing has been written.</exception>
    public static void Compute(ReadOnlySpan2D<float> query, ReadOnlySpan2D<float> key, ReadOnlySpan2D<float> value,
                               Span2D<float> output, Span2D<float> weights, AttentionOptions options = default)
    {
        float scale = AttentionValidation.ValidateSingleHead(query, key, value, output, weights, hasWeights: true, options);
        RunSingleHead(query, key, value, output, weights, scale, options);
    }

    /// <summary>Computes multi-head attention over flat BSNH buffers, with grouped-query and multi-query attention through <see cref="AttentionShape.KvHeads"/>.</summary>
    /// <param name="query"><c>[Batch, QueryLength, Heads·HeadDim]</c>, row-major.</param>
    /// <param name="key"><c>[Batch, KeyLength, KvHeads·HeadDim]</c>, row-major.</param>
    /// <param name="value"><c>[Batch, KeyLength, KvHeads·ValueDim]</c>, row-major.</param>
    /// <param name="output">Receives <c>[Batch, QueryLength, Heads·ValueDim]</c>; must not overlap the inputs.</param>
    /// <param name="shape">The sizes; every buffer must have exactly the length the shape gives.</param>
    /// <param name="options">Scale, causal mask, normalisation and threads.</param>
    /// <exception cref="ArgumentException">The shape is invalid or overflows, a buffer length does not match, the output overlaps an input, or an option is out of range; nothing has been written.</exception>
    public static void ComputeMultiHead(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value,
                                        Span<float> output, AttentionShape shape, AttentionOptions options = default)
    {
        var sizes = AttentionValidation.ValidateMultiHead(query, key, value, output, shape, options);
        RunMultiHead<NoMask>(query, key, value, output, shape, sizes, options, maskFromOptions: true, default);
    }

    /// <summary>
    /// Computes multi-head attention over flat BSNH buffers and writes every head's attention weights, the
    /// <c>[Batch, Heads, QueryLength, KeyLength]</c> tensor (PyTorch's <c>need_weights</c> with
    /// <c>average_attn_weights=False</c>), in one call whose work items (sequence, head, block of rows) run in parallel.
    /// The weights need each row's whole softmax, so this runs the row-by-row kernel.
    /// </summary>
    /// <param name="query"><c>[Batch, QueryLength, Heads·HeadDim]</c>, row-major.</param>
    /// <param name="key"><c>[Batch, KeyLength, KvHeads·HeadDim]</c>, row-major.</param>
    /// <param name="value"><c>[Batch, KeyLength, KvHeads·ValueDim]</c>, row-major.</param>
    /// <param name="output">Receives <c>[Batch, QueryLength, Heads·ValueDim]</c>; must not overlap the inputs.</param>
    /// <param name="weights">Receives <c>[Batch, Heads, QueryLength, KeyLength]</c>, masked entries 0; must not overlap the inputs or the output.</param>
    /// <param name="shape">The sizes; every buffer must have exactly the length the shape gives.</param>
    /// <param name="options">Scale, causal mask, window, normalisation and threads.</param>
    /// <exception cref="ArgumentException">As for the overload without weights, or the weights are not <c>Batch·Heads·QueryLength·KeyLength</c> long or overlap another buffer; nothing has been written.</exception>
    public static void ComputeMultiHead(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value,
                                        Span<float> output, Span<float> weights, AttentionShape shape, AttentionOptions options = default) =>
        ComputeMultiHead(query, key, value, output, weights, shape, default, options);

    /// <summary>
    /// <see cref="ComputeMultiHead(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, AttentionShape, AttentionOptions)"/>
    /// with <paramref name="modifiers"/> (see <see cref="AttentionModifiers"/>; a sink's share is in no weight, so a row's
    /// weights then sum to less than 1).
    /// </summary>
    /// <param name="query"><c>[Batch, QueryLength, Heads·HeadDim]</c>, row-major.</param>
    /// <param name="key"><c>[Batch, KeyLength, KvHeads·HeadDim]</c>, row-major.</param>
    /// <param name="value"><c>[Batch, KeyLength, KvHeads·ValueDim]</c>, row-major.</param>
    /// <param name="output">Receives <c>[Batch, QueryLength, Heads·ValueDim]</c>; must not overlap the inputs.</param>
    /// <param name="weights">Receives <c>[Batch, Heads, QueryLength, KeyLength]</c>, masked entries 0; must not overlap the inputs, the output or the log-sum-exp.</param>
    /// <param name="shape">The sizes; every buffer must have exactly the length the shape gives.</param>
    /// <param name="modifiers">ALiBi slopes and sinks, log-sum-exp output, boolean or additive mask; <c>default</c> for none.</param>
    /// <param name="options">Scale, softcap, causal mask, window, normalisation and threads.</param>
    /// <exception cref="ArgumentException">As for the overload without weights, or the weights are the wrong length or overlap another buffer; nothing has been written.</exception>
    public static void ComputeMultiHead(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value,
                                        Span<float> output, Span<float> weights, AttentionShape shape, AttentionModifiers modifiers,
                                        AttentionOptions options = default) =>
        RunMultiHeadModified(query, key, value, output, shape, default, default, padded: false, modifiers, options, new NoMask(shape.KeyLength), weights, hasWeights: true);

    /// <summary>
    /// Computes multi-head attention over padded BSNH buffers, each sequence at its own length: sequence <c>b</c>'s
    /// queries attend to its first <c>keyLengths[b]</c> keys only, and its query rows at or past <c>queryLengths[b]</c>
    /// get zeros. Padded key and value rows are never read and padded query rows are only zeroed, so the time follows
    /// the real tokens, not the padded shape. The causal mask and the window (<see cref="AttentionOptions.CausalAlignment"/>)
    /// use each sequence's own lengths: bottom-right, row <c>i</c> of sequence <c>b</c> sees keys
    /// <c>j ≤ i + keyLengths[b] − queryLengths[b]</c>. A sequence with no key (<c>keyLengths[b] = 0</c>) gets zeros.
    /// <para>
    /// The lengths are plain spans rather than a mask tensor: the usual padding mask (PyTorch's <c>key_padding_mask</c>,
    /// BERT's attention mask of ones then zeros) is exactly a length per sequence, and a length lets the kernels skip the
    /// padded tiles instead of testing each element.
    /// </para>
    /// </summary>
    /// <param name="query"><c>[Batch, QueryLength, Heads·HeadDim]</c>, row-major.</param>
    /// <param name="key"><c>[Batch, KeyLength, KvHeads·HeadDim]</c>, row-major; rows past a sequence's key length are never read.</param>
    /// <param name="value"><c>[Batch, KeyLength, KvHeads·ValueDim]</c>, row-major; rows past a sequence's key length are never read.</param>
    /// <param name="output">Receives <c>[Batch, QueryLength, Heads·ValueDim]</c>, zeros in padded query rows; must not overlap the inputs.</param>
    /// <param name="shape">The padded sizes; every buffer must have exactly the length the shape gives.</param>
    /// <param name="keyLengths"><c>[Batch]</c>: the real keys of each sequence, each in <c>[0, shape.KeyLength]</c>.</param>
    /// <param name="queryLengths"><c>[Batch]</c>: the real query rows of each sequence, each in <c>[0, shape.QueryLength]</c>; empty: every row is real.</param>
    /// <param name="options">Scale, causal mask and alignment, window, normalisation and threads.</param>
    /// <exception cref="ArgumentException">As for <see cref="ComputeMultiHead(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, AttentionShape, AttentionOptions)"/>,
    /// or a lengths span does not have <c>shape.Batch</c> entries, or a length is negative or past the shape's; nothing has been written.</exception>
    public static void ComputeMultiHeadPadded(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value,
                                              Span<float> output, AttentionShape shape, ReadOnlySpan<int> keyLengths, ReadOnlySpan<int> queryLengths,
                                              AttentionOptions options = default)
    {
        var sizes = AttentionValidation.ValidateMultiHead(query, key, value, output, shape, options);
        AttentionValidation.ValidateSequenceLengths(keyLengths, queryLengths, shape);
        fixed (float* q = query, k = key, v = value, o = output)
        fixed (int* kl = keyLengths, ql = queryLengths)
        {
            var problem = MultiHeadProblem(q, k, v, o, shape, sizes, options) with { KeyLengths = kl, QueryLengths = ql };
            KernelDispatch.Run(problem, options.Kernel, options.MaxDegreeOfParallelism);
        }
    }

    /// <summary>
    /// <see cref="ComputeMultiHeadPadded(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, AttentionShape, ReadOnlySpan{int}, ReadOnlySpan{int}, AttentionOptions)"/>
    /// that also writes every head's attention weights, the <c>[Batch, Heads, QueryLength, KeyLength]</c> tensor of the
    /// padded shape: sequence b's weights on its keys past <c>keyLengths[b]</c> are 0, and its rows past
    /// <c>queryLengths[b]</c> are all 0, as their outputs are. The weights need each row's whole softmax, so this runs
    /// the row-by-row kernel, its work items (sequence, head, block of rows) in parallel.
    /// </summary>
    /// <param name="query"><c>[Batch, QueryLength, Heads·HeadDim]</c>, row-major.</param>
    /// <param name="key"><c>[Batch, KeyLength, KvHeads·HeadDim]</c>, row-major; rows past a sequence's key length are never read.</param>
    /// <param name="value"><c>[Batch, KeyLength, KvHeads·ValueDim]</c>, row-major; rows past a sequence's key length are never read.</param>
    /// <param name="output">Receives <c>[Batch, QueryLength, Heads·ValueDim]</c>, zeros in padded query rows; must not overlap the inputs.</param>
    /// <param name="weights">Receives <c>[Batch, Heads, QueryLength, KeyLength]</c>, masked and padded entries 0; must not overlap the inputs or the output.</param>
    /// <param name="shape">The padded sizes; every buffer must have exactly the length the shape gives.</param>
    /// <param name="keyLengths"><c>[Batch]</c>: the real keys of each sequence, each in <c>[0, shape.KeyLength]</c>.</param>
    /// <param name="queryLengths"><c>[Batch]</c>: the real query rows of each sequence, each in <c>[0, shape.QueryLength]</c>; empty: every row is real.</param>
    /// <param name="options">Scale, causal mask and alignment, window, normalisation and threads.</param>
    /// <exception cref="ArgumentException">As for the overload without weights, or the weights are not <c>Batch·Heads·QueryLength·KeyLength</c> long or overlap another buffer; nothing has been written.</exception>
    public static void ComputeMultiHeadPadded(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value,
                                              Span<float> output, Span<float> weights, AttentionShape shape, ReadOnlySpan<int> keyLengths,
                                              ReadOnlySpan<int> queryLengths, AttentionOptions options = default) =>
        ComputeMultiHeadPadded(query, key, value, output, weights, shape, keyLengths, queryLengths, default, options);

    /// <summary>
    /// <see cref="ComputeMultiHeadPadded(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, AttentionShape, ReadOnlySpan{int}, ReadOnlySpan{int}, AttentionOptions)"/>
    /// with <paramref name="modifiers"/> (see <see cref="AttentionModifiers"/>; ALiBi uses each sequence's own lengths, and a
    /// sink's share is in no weight, so a row's weights then sum to less than 1).
    /// </summary>
    /// <param name="query"><c>[Batch, QueryLength, Heads·HeadDim]</c>, row-major.</param>
    /// <param name="key"><c>[Batch, KeyLength, KvHeads·HeadDim]</c>, row-major; rows past a sequence's key length are never read.</param>
    /// <param name="value"><c>[Batch, KeyLength, KvHeads·ValueDim]</c>, row-major; rows past a sequence's key length are never read.</param>
    /// <param name="output">Receives <c>[Batch, QueryLength, Heads·ValueDim]</c>, zeros in padded query rows; must not overlap the inputs.</param>
    /// <param name="weights">Receives <c>[Batch, Heads, QueryLength, KeyLength]</c>, masked and padded entries 0; must not overlap the inputs, the output or the log-sum-exp.</param>
    /// <param name="shape">The padded sizes; every buffer must have exactly the length the shape gives.</param>
    /// <param name="keyLengths"><c>[Batch]</c>: the real keys of each sequence, each in <c>[0, shape.KeyLength]</c>.</param>
    /// <param name="queryLengths"><c>[Batch]</c>: the real query rows of each sequence, each in <c>[0, shape.QueryLength]</c>; empty: every row is real.</param>
    /// <param name="modifiers">ALiBi slopes and sinks, log-sum-exp output, boolean or additive mask; <c>default</c> for none.</param>
    /// <param name="options">Scale, softcap, causal mask and alignment, window, normalisation and threads.</param>
    /// <exception cref="ArgumentException">As for the overload without weights, or the weights are the wrong length or overlap another buffer, or a modifier is invalid (parameter <c>modifiers</c>); nothing has been written.</exception>
    public static void ComputeMultiHeadPadded(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value,
                                              Span<float> output, Span<float> weights, AttentionShape shape, ReadOnlySpan<int> keyLengths,
                                              ReadOnlySpan<int> queryLengths, AttentionModifiers modifiers, AttentionOptions options = default) =>
        RunMultiHeadModified(query, key, value, output, shape, keyLengths, queryLengths, padded: true, modifiers, options, new NoMask(shape.KeyLength), weights, hasWeights: true);

    /// <summary>
    /// Computes multi-head attention over packed variable-length sequences, FlashAttention's <c>cu_seqlens</c> form: the
    /// sequences' rows are concatenated with no padding, sequence <c>b</c>'s queries are rows
    /// <c>[queryOffsets[b], queryOffsets[b + 1])</c> of <paramref name="query"/> and its keys and values rows
    /// <c>[keyOffsets[b], keyOffsets[b + 1])</c> of <paramref name="key"/> and <paramref name="value"/>, and it attends to
    /// its own keys only. Each sequence is computed as a call of its own lengths (the causal mask, the window and their
    /// alignment use them), so the work is proportional to the real tokens and equals
    /// <see cref="ComputeMultiHeadPadded(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, AttentionShape, ReadOnlySpan{int}, ReadOnlySpan{int}, AttentionOptions)"/>
    /// on the same sequences padded. A sequence with queries but no keys gets zeros.
    /// </summary>
    /// <param name="query"><c>[queryOffsets[Batch], Heads·HeadDim]</c>, row-major.</param>
    /// <param name="key"><c>[keyOffsets[Batch], KvHeads·HeadDim]</c>, row-major.</param>
    /// <param name="value"><c>[keyOffsets[Batch], KvHeads·ValueDim]</c>, row-major.</param>
    /// <param name="output">Receives <c>[queryOffsets[Batch], Heads·ValueDim]</c>; must not overlap the inputs.</param>
    /// <param name="shape">
    /// <c>Batch</c> = the number of sequences; <c>QueryLength</c> and <c>KeyLength</c> = the longest a sequence may be
    /// (FlashAttention's <c>max_seqlen_q</c>, <c>max_seqlen_k</c>): every sequence's lengths must be at most these;
    /// the head sizes as for <see cref="ComputeMultiHead(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, AttentionShape, AttentionOptions)"/>.
    /// </param>
    /// <param name="queryOffsets"><c>[Batch + 1]</c> cumulative query lengths: 0 first, never decreasing, the total query rows last.</param>
    /// <param name="keyOffsets"><c>[Batch + 1]</c> cumulative key lengths, as <paramref name="queryOffsets"/>.</param>
    /// <param name="options">Scale, softcap, causal mask and alignment, window, normalisation and threads.</param>
    /// <exception cref="ArgumentException">The shape or an option is invalid, an offsets span does not have <c>Batch + 1</c>
    /// entries, does not start at 0, decreases or makes a sequence longer than the shape's lengths, a buffer is not exactly
    /// the offsets' total rows long, or the output overlaps an input; nothing has been written.</exception>
    public static void ComputeMultiHeadPacked(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value,
                                              Span<float> output, AttentionShape shape, ReadOnlySpan<int> queryOffsets, ReadOnlySpan<int> keyOffsets,
                                              AttentionOptions options = default) =>
        ComputeMultiHeadPacked(query, key, value, output, shape, queryOffsets, keyOffsets, default(AttentionModifiers), options);

    /// <summary>
    /// Computes multi-head attention over packed variable-length sequences (as
    /// <see cref="ComputeMultiHeadPacked(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, AttentionShape, ReadOnlySpan{int}, ReadOnlySpan{int}, AttentionOptions)"/>)
    /// with <paramref name="modifiers"/>. ALiBi uses each sequence's own lengths. The log-sum-exp is
    /// <c>[Heads, queryOffsets[Batch]]</c>, FlashAttention's varlen <c>softmax_lse</c>: head h of the packed row r at
    /// <c>h·queryOffsets[Batch] + r</c>. A dense mask is indexed as a padded call's, <c>[Batch or 1, Heads or 1,
    /// shape.QueryLength, shape.KeyLength]</c> through <see cref="AttentionModifiers.MaskStrides"/>, with row and key
    /// indices inside each sequence.
    /// </summary>
    /// <param name="query"><c>[queryOffsets[Batch], Heads·HeadDim]</c>, row-major.</param>
    /// <param name="key"><c>[keyOffsets[Batch], KvHeads·HeadDim]</c>, row-major.</param>
    /// <param name="value"><c>[keyOffsets[Batch], KvHeads·ValueDim]</c>, row-major.</param>
    /// <param name="output">Receives <c>[queryOffsets[Batch], Heads·ValueDim]</c>; must not overlap the inputs.</param>
    /// <param name="shape">As for the overload without modifiers: Batch = sequences, QueryLength and KeyLength = the longest a sequence may be.</param>
    /// <param name="queryOffsets"><c>[Batch + 1]</c> cumulative query lengths from 0.</param>
    /// <param name="keyOffsets"><c>[Batch + 1]</c> cumulative key lengths from 0.</param>
    /// <param name="modifiers">ALiBi slopes and sinks (<c>[Heads]</c>), log-sum-exp output (<c>[Heads, queryOffsets[Batch]]</c>), boolean or additive mask; <c>default</c> for none.</param>
    /// <param name="options">Scale, softcap, causal mask and alignment, window, normalisation and threads.</param>
    /// <exception cref="ArgumentException">As for the overload without modifiers, or a modifier is invalid (parameter <c>modifiers</c>); nothing has been written.</exception>
    public static void ComputeMultiHeadPacked(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value,
                                              Span<float> output, AttentionShape shape, ReadOnlySpan<int> queryOffsets, ReadOnlySpan<int> keyOffsets,
                                              AttentionModifiers modifiers, AttentionOptions options = default)
    {
        NoModifier none = default;
        RunPacked(query, key, value, output, shape, queryOffsets, keyOffsets, modifiers, options, ref none);
    }

    /// <summary>
    /// <see cref="ComputeMultiHeadPacked(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, AttentionShape, ReadOnlySpan{int}, ReadOnlySpan{int}, AttentionOptions)"/>
    /// that also writes every head's attention weights, sequence by sequence with no padding: sequence b's
    /// <c>[Heads, q_b, k_b]</c> block (<c>q_b = queryOffsets[b + 1] − queryOffsets[b]</c>, <c>k_b</c> likewise from
    /// <paramref name="keyOffsets"/>) follows sequence b − 1's, so head h's weight of the sequence's row i on its key j
    /// is at <c>Heads·Σ_{b′&lt;b} q_b′·k_b′ + (h·q_b + i)·k_b + j</c>, masked entries 0. The weights need each row's
    /// whole softmax, so this runs the row-by-row kernel, its work items (head, block of rows) in parallel.
    /// </summary>
    /// <param name="query"><c>[queryOffsets[Batch], Heads·HeadDim]</c>, row-major.</param>
    /// <param name="key"><c>[keyOffsets[Batch], KvHeads·HeadDim]</c>, row-major.</param>
    /// <param name="value"><c>[keyOffsets[Batch], KvHeads·ValueDim]</c>, row-major.</param>
    /// <param name="output">Receives <c>[queryOffsets[Batch], Heads·ValueDim]</c>; must not overlap the inputs.</param>
    /// <param name="weights">Receives the sequences' <c>[Heads, q_b, k_b]</c> blocks in order, <c>Heads·Σ q_b·k_b</c> floats; must not overlap the inputs or the output.</param>
    /// <param name="shape">As for the overload without weights: Batch = sequences, QueryLength and KeyLength = the longest a sequence may be.</param>
    /// <param name="queryOffsets"><c>[Batch + 1]</c> cumulative query lengths from 0.</param>
    /// <param name="keyOffsets"><c>[Batch + 1]</c> cumulative key lengths from 0.</param>
    /// <param name="options">Scale, softcap, causal mask and alignment, window, normalisation and threads.</param>
    /// <exception cref="ArgumentException">As for the overload without weights, or the weights are not <c>Heads·Σ q_b·k_b</c> long or overlap another buffer; nothing has been written.</exception>
    public static void ComputeMultiHeadPacked(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value,
                                              Span<float> output, Span<float> weights, AttentionShape shape, ReadOnlySpan<int> queryOffsets,
                                              ReadOnlySpan<int> keyOffsets, AttentionOptions options = default) =>
        ComputeMultiHeadPacked(query, key, value, output, weights, shape, queryOffsets, keyOffsets, default, options);

    /// <summary>
    /// <see cref="ComputeMultiHeadPacked(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, AttentionShape, ReadOnlySpan{int}, ReadOnlySpan{int}, AttentionOptions)"/>
    /// with <paramref name="modifiers"/>, as in
    /// <see cref="ComputeMultiHeadPacked(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, AttentionShape, ReadOnlySpan{int}, ReadOnlySpan{int}, AttentionModifiers, AttentionOptions)"/>
    /// (a sink's share is in no weight, so a row's weights then sum to less than 1).
    /// </summary>
    /// <param name="query"><c>[queryOffsets[Batch], Heads·HeadDim]</c>, row-major.</param>
    /// <param name="key"><c>[keyOffsets[Batch], KvHeads·HeadDim]</c>, row-major.</param>
    /// <param name="value"><c>[keyOffsets[Batch], KvHeads·ValueDim]</c>, row-major.</param>
    /// <param name="output">Receives <c>[queryOffsets[Batch], Heads·ValueDim]</c>; must not overlap the inputs.</param>
    /// <param name="weights">Receives the sequences' <c>[Heads, q_b, k_b]</c> blocks in order; must not overlap the inputs, the output or the log-sum-exp.</param>
    /// <param name="shape">As for the overload without weights.</param>
    /// <param name="queryOffsets"><c>[Batch + 1]</c> cumulative query lengths from 0.</param>
    /// <param name="keyOffsets"><c>[Batch + 1]</c> cumulative key lengths from 0.</param>
    /// <param name="modifiers">ALiBi slopes and sinks (<c>[Heads]</c>), log-sum-exp output (<c>[Heads, queryOffsets[Batch]]</c>), boolean or additive mask; <c>default</c> for none.</param>
    /// <param name="options">Scale, softcap, causal mask and alignment, window, normalisation and threads.</param>
    /// <exception cref="ArgumentException">As for the overload without modifiers, or a modifier is invalid (parameter <c>modifiers</c>); nothing has been written.</exception>
    public static void ComputeMultiHeadPacked(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value,
                                              Span<float> output, Span<float> weights, AttentionShape shape, ReadOnlySpan<int> queryOffsets,
                                              ReadOnlySpan<int> keyOffsets, AttentionModifiers modifiers, AttentionOptions options = default)
    {
        NoModifier none = default;
        RunPacked(query, key, value, output, shape, queryOffsets, keyOffsets, modifiers, options, ref none, weights, hasWeights: true);
    }

    /// <summary>
    /// Computes multi-head attention over packed variable-length sequences under a modifier of your own,
    /// <paramref name="modifier"/> (see <see cref="IAttentionModifier{TSelf}"/>), with <paramref name="modifiers"/>
    /// around it. Your modifier is asked with the sequence's index <c>b</c> and the row and key indices inside that
    /// sequence (row i of sequence b is packed row <c>queryOffsets[b] + i</c>), about that sequence's own keys only.
    /// </summary>
    /// <typeparam name="TModifier">Your modifier struct.</typeparam>
    /// <param name="query"><c>[queryOffsets[Batch], Heads·HeadDim]</c>, row-major.</param>
    /// <param name="key"><c>[keyOffsets[Batch], KvHeads·HeadDim]</c>, row-major.</param>
    /// <param name="value"><c>[keyOffsets[Batch], KvHeads·ValueDim]</c>, row-major.</param>
    /// <param name="output">Receives <c>[queryOffsets[Batch], Heads·ValueDim]</c>; must not overlap the inputs.</param>
    /// <param name="shape">As for the overload without modifiers.</param>
    /// <param name="queryOffsets"><c>[Batch + 1]</c> cumulative query lengths from 0.</param>
    /// <param name="keyOffsets"><c>[Batch + 1]</c> cumulative key lengths from 0.</param>
    /// <param name="modifier">Your modifier; read in place for the duration of the call.</param>
    /// <param name="modifiers">As for the overload without <paramref name="modifier"/>; <c>default</c> for none.</param>
    /// <param name="options">Scale, softcap, causal mask and alignment, window, normalisation and threads.</param>
    /// <exception cref="ArgumentException">As for the overload without <paramref name="modifier"/>, or the modifier changes scores
    /// and the normalisation is not softmax (parameter <c>modifier</c>); nothing has been written.</exception>
    public static void ComputeMultiHeadPacked<TModifier>(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value,
                                                         Span<float> output, AttentionShape shape, ReadOnlySpan<int> queryOffsets, ReadOnlySpan<int> keyOffsets,
                                                         TModifier modifier, AttentionModifiers modifiers, AttentionOptions options = default)
        where TModifier : struct, IAttentionModifier<TModifier>
    {
        ModifierValidation.ValidateUser<TModifier>(options);
        RunPacked(query, key, value, output, shape, queryOffsets, keyOffsets, modifiers, options, ref modifier);
    }

    /// <summary>
    /// The packed entry points: validates, then runs one problem per sequence at its own lengths (nothing pads, and
    /// each sequence's rows see only its own keys), its log-sum-exp rows and dense mask at the sequence's place.
    /// <see cref="NoModifier"/> as <typeparamref name="TModifier"/> is no modifier of the user's: the built-in masks run alone.
    /// </summary>
    private static void RunPacked<TModifier>(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value,
                                             Span<float> output, in AttentionShape shape, ReadOnlySpan<int> queryOffsets, ReadOnlySpan<int> keyOffsets,
                                             in AttentionModifiers modifiers, in AttentionOptions options, ref TModifier user,
                                             Span<float> weights = default, bool hasWeights = false)
        where TModifier : struct, IAttentionModifier<TModifier>
    {
        var (packed, layout) = ModifierValidation.ValidatePacked(query, key, value, output, shape, queryOffsets, keyOffsets, modifiers, options, weights, hasWeights);
        var sizes = packed.Sizes;
        int queryWidth = shape.Heads * shape.HeadDim, keyWidth = sizes.KvHeads * shape.HeadDim;
        int valueWidth = sizes.KvHeads * sizes.ValueDim, outputWidth = shape.Heads * sizes.ValueDim;
        fixed (float* q = query, k = key, v = value, o = output, w = weights)
        fixed (float* slopes = modifiers.AlibiSlopes, sinks = modifiers.Sinks, lse = modifiers.LogSumExp, additive = modifiers.AdditiveMask)
        fixed (bool* boolean = modifiers.BooleanMask)
        {
            // Sequence b's weights, [Heads, q_b, k_b], start after the blocks of the sequences before it.
            nint weightsStart = 0;
            for (int b = 0; b < shape.Batch; b++)
            {
                int queryLength = queryOffsets[b + 1] - queryOffsets[b], keyLength = keyOffsets[b + 1] - keyOffsets[b];
                nint sequenceWeights = weightsStart;
                weightsStart += (nint)shape.Heads * queryLength * keyLength;
                if (queryLength == 0)
                {
                    continue;
                }

                // Sequence b's dense mask starts b batch strides in (validated over the shape's longest lengths, so every
                // element a sequence reads is inside); its log-sum-exp rows start at its first packed row of each head.
                nint maskStart = b * layout.BatchStride;
                var problem = AttentionProblem.Create(q + (nint)queryOffsets[b] * queryWidth, queryWidth, k + (nint)keyOffsets[b] * keyWidth, keyWidth,
                                                      v + (nint)keyOffsets[b] * valueWidth, valueWidth, o + (nint)queryOffsets[b] * outputWidth, outputWidth,
                                                      batch: 1, shape.Heads, sizes.KvHeads, queryLength, keyLength, keyRowsPerBatch: keyLength,
                                                      shape.HeadDim, sizes.ValueDim, sizes.Scale, options)
                    with
                    {
                        AlibiSlopes = slopes, Sinks = sinks, LogSumExp = lse == null ? null : lse + queryOffsets[b], LogSumExpHeadStride = packed.QueryRows,
                        AdditiveMask = additive == null ? null : additive + maskStart, BooleanMask = boolean == null ? null : (byte*)boolean + maskStart,
                        DenseMask = layout,
                        Weights = w == null ? null : w + sequenceWeights, WeightsRowStride = keyLength, WeightsHeadStride = (nint)queryLength * keyLength,
                    };
                if (typeof(TModifier) == typeof(NoModifier))
                {
                    KernelDispatch.Run(problem, options.Kernel, options.MaxDegreeOfParallelism);
                }
                else
                {
                    KernelDispatch.RunWithUser(problem, UserMask<TModifier>.Create(ref user, keyLength, firstBatch: b), options.Kernel, options.MaxDegreeOfParallelism);
                }
            }
        }
    }

    /// <summary>
    /// Computes one head of attention with <paramref name="modifiers"/>: ALiBi, a sink, a log-sum-exp output and a dense
    /// mask (see <see cref="AttentionModifiers"/>; one head is head 0 of sequence 0, so per-head spans have one entry and
    /// the log-sum-exp <c>queryLength</c>).
    /// </summary>
    /// <param name="query">Queries, <c>[queryLength, headDim]</c>; a pitch is allowed.</param>
    /// <param name="key">Keys, <c>[keyLength, headDim]</c>; a pitch is allowed.</param>
    /// <param name="value">Values, <c>[keyLength, valueDim]</c>; a pitch is allowed.</param>
    /// <param name="output">Receives the attention output, <c>[queryLength, valueDim]</c>; must not overlap the inputs.</param>
    /// <param name="modifiers">ALiBi slope, sink, log-sum-exp output, boolean or additive mask; empty members are none.</param>
    /// <param name="options">Scale, softcap, causal mask, window, normalisation and threads.</param>
    /// <exception cref="ArgumentException">As for <see cref="Compute(ReadOnlySpan2D{float}, ReadOnlySpan2D{float}, ReadOnlySpan2D{float}, Span2D{float}, AttentionOptions)"/>,
    /// or a modifier is invalid (parameter <c>modifiers</c>); nothing has been written.</exception>
    public static void Compute(ReadOnlySpan2D<float> query, ReadOnlySpan2D<float> key, ReadOnlySpan2D<float> value,
                               Span2D<float> output, AttentionModifiers modifiers, AttentionOptions options = default) =>
        Compute(query, key, value, output, default, hasWeights: false, modifiers, options, new NoMask(key.Height));

    /// <summary>Computes one head of attention with <paramref name="modifiers"/> and writes the attention weights as well (a sink's share is in no weight: a row's weights then sum to less than 1).</summary>
    /// <param name="query">Queries, <c>[queryLength, headDim]</c>; a pitch is allowed.</param>
    /// <param name="key">Keys, <c>[keyLength, headDim]</c>; a pitch is allowed.</param>
    /// <param name="value">Values, <c>[keyLength, valueDim]</c>; a pitch is allowed.</param>
    /// <param name="output">Receives the attention output, <c>[queryLength, valueDim]</c>.</param>
    /// <param name="weights">Receives the normalised weights, <c>[queryLength, keyLength]</c>; masked entries are 0.</param>
    /// <param name="modifiers">ALiBi slope, sink, log-sum-exp output, boolean or additive mask; empty members are none.</param>
    /// <param name="options">Scale, softcap, causal mask, window, normalisation and threads.</param>
    /// <exception cref="ArgumentException">As for the overload without modifiers, or a modifier is invalid (parameter <c>modifiers</c>); nothing has been written.</exception>
    public static void Compute(ReadOnlySpan2D<float> query, ReadOnlySpan2D<float> key, ReadOnlySpan2D<float> value,
                               Span2D<float> output, Span2D<float> weights, AttentionModifiers modifiers, AttentionOptions options = default) =>
        Compute(query, key, value, output, weights, hasWeights: true, modifiers, options, new NoMask(key.Height));

    /// <summary>
    /// Computes one head of attention under a modifier of your own, <paramref name="modifier"/> (see
    /// <see cref="IAttentionModifier{TSelf}"/>: your mask and score modification, compiled into the kernels), with the
    /// built-in <paramref name="modifiers"/> and options around it. One head is head 0 of sequence 0.
    /// </summary>
    /// <typeparam name="TModifier">Your modifier struct.</typeparam>
    /// <param name="query">Queries, <c>[queryLength, headDim]</c>; a pitch is allowed.</param>
    /// <param name="key">Keys, <c>[keyLength, headDim]</c>; a pitch is allowed.</param>
    /// <param name="value">Values, <c>[keyLength, valueDim]</c>; a pitch is allowed.</param>
    /// <param name="output">Receives the attention output, <c>[queryLength, valueDim]</c>; must not overlap the inputs.</param>
    /// <param name="modifier">Your modifier; read in place for the duration of the call.</param>
    /// <param name="modifiers">ALiBi slope, sink, log-sum-exp output, boolean or additive mask; <c>default</c> for none.</param>
    /// <param name="options">Scale, softcap, causal mask, window, normalisation and threads.</param>
    /// <exception cref="ArgumentException">As for the overload without <paramref name="modifier"/>, or the modifier changes scores
    /// and the normalisation is not softmax (parameter <c>modifier</c>); nothing has been written.</exception>
    public static void Compute<TModifier>(ReadOnlySpan2D<float> query, ReadOnlySpan2D<float> key, ReadOnlySpan2D<float> value,
                                          Span2D<float> output, TModifier modifier, AttentionModifiers modifiers, AttentionOptions options = default)
        where TModifier : struct, IAttentionModifier<TModifier>
    {
        ModifierValidation.ValidateUser<TModifier>(options);
        Compute(query, key, value, output, default, hasWeights: false, modifiers, options, UserMask<TModifier>.Create(ref modifier, key.Height));
    }

    /// <summary>
    /// <see cref="Compute{TModifier}(ReadOnlySpan2D{float}, ReadOnlySpan2D{float}, ReadOnlySpan2D{float}, Span2D{float}, TModifier, AttentionModifiers, AttentionOptions)"/>
    /// that writes the attention weights as well.
    /// </summary>
    /// <typeparam name="TModifier">Your modifier struct.</typeparam>
    /// <param name="query">Queries, <c>[queryLength, headDim]</c>; a pitch is allowed.</param>
    /// <param name="key">Keys, <c>[keyLength, headDim]</c>; a pitch is allowed.</param>
    /// <param name="value">Values, <c>[keyLength, valueDim]</c>; a pitch is allowed.</param>
    /// <param name="output">Receives the attention output, <c>[queryLength, valueDim]</c>.</param>
    /// <param name="weights">Receives the normalised weights, <c>[queryLength, keyLength]</c>; masked entries are 0.</param>
    /// <param name="modifier">Your modifier; read in place for the duration of the call.</param>
    /// <param name="modifiers">ALiBi slope, sink, log-sum-exp output, boolean or additive mask; <c>default</c> for none.</param>
    /// <param name="options">Scale, softcap, causal mask, window, normalisation and threads.</param>
    /// <exception cref="ArgumentException">As for the overload without <paramref name="weights"/>; nothing has been written.</exception>
    public static void Compute<TModifier>(ReadOnlySpan2D<float> query, ReadOnlySpan2D<float> key, ReadOnlySpan2D<float> value,
                                          Span2D<float> output, Span2D<float> weights, TModifier modifier, AttentionModifiers modifiers,
                                          AttentionOptions options = default)
        where TModifier : struct, IAttentionModifier<TModifier>
    {
        ModifierValidation.ValidateUser<TModifier>(options);
        Compute(query, key, value, output, weights, hasWeights: true, modifiers, options, UserMask<TModifier>.Create(ref modifier, key.Height));
    }

    private static void Compute<TUser>(ReadOnlySpan2D<float> query, ReadOnlySpan2D<float> key, ReadOnlySpan2D<float> value,
                                       Span2D<float> output, Span2D<float> weights, bool hasWeights, in AttentionModifiers modifiers, in AttentionOptions options,
                                       TUser user)
        where TUser : unmanaged, IAttentionMask<TUser>
    {
        float scale = AttentionValidation.ValidateSingleHead(query, key, value, output, weights, hasWeights, options);
        var layout = ModifierValidation.Validate(modifiers, 1, 1, query.Height, key.Height, options,
                                                 MemoryExtent.Of(output), MemoryExtent.Of(query), MemoryExtent.Of(key), MemoryExtent.Of(value));
        if (hasWeights)
        {
            AttentionValidation.CheckNoOverlap(MemoryExtent.Of((ReadOnlySpan<float>)modifiers.LogSumExp), MemoryExtent.Of(weights), "modifiers", nameof(weights));
        }

        fixed (float* q = &query.DangerousGetReference(), k = &key.DangerousGetReference(), v = &value.DangerousGetReference(),
               o = &output.DangerousGetReference(), w = &weights.DangerousGetReference())
        {
            var problem = AttentionProblem.Create(q, Views.RowStride(query), k, Views.RowStride(key), v, Views.RowStride(value),
                                                  o, Views.RowStride(output), batch: 1, heads: 1, kvHeads: 1, output.Height, key.Height,
                                                  keyRowsPerBatch: key.Height, query.Width, output.Width, scale, options)
                with { Weights = weights.Height == 0 ? null : w, WeightsRowStride = Views.RowStride(weights) };
            RunModified(problem, modifiers, layout, options, user);
        }
    }

    /// <summary>
    /// Computes multi-head attention over flat BSNH buffers (as <see cref="ComputeMultiHead(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, AttentionShape, AttentionOptions)"/>) with <paramref name="modifiers"/>.
    /// (A name of its own rather than an overload, for now: see the closing note of issue 11.)
    /// </summary>
    /// <param name="query"><c>[Batch, QueryLength, Heads·HeadDim]</c>, row-major.</param>
    /// <param name="key"><c>[Batch, KeyLength, KvHeads·HeadDim]</c>, row-major.</param>
    /// <param name="value"><c>[Batch, KeyLength, KvHeads·ValueDim]</c>, row-major.</param>
    /// <param name="output">Receives <c>[Batch, QueryLength, Heads·ValueDim]</c>; must not overlap the inputs.</param>
    /// <param name="shape">The sizes; every buffer must have exactly the length the shape gives.</param>
    /// <param name="modifiers">ALiBi slopes and sinks (<c>[Heads]</c>), log-sum-exp output (<c>[Batch, Heads, QueryLength]</c>), boolean or additive mask; empty members are none.</param>
    /// <param name="options">Scale, softcap, causal mask, window, normalisation and threads.</param>
    /// <exception cref="ArgumentException">As for the overload without modifiers, or a modifier is invalid (parameter <c>modifiers</c>); nothing has been written.</exception>
    public static void ComputeMultiHead(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value,
                                                Span<float> output, AttentionShape shape, AttentionModifiers modifiers, AttentionOptions options = default) =>
        RunMultiHeadModified(query, key, value, output, shape, default, default, padded: false, modifiers, options, new NoMask(shape.KeyLength));

    /// <summary>
    /// Computes multi-head attention over flat BSNH buffers under a modifier of your own, <paramref name="modifier"/>
    /// (see <see cref="IAttentionModifier{TSelf}"/>), with the built-in <paramref name="modifiers"/> and options around it.
    /// Your modifier is asked with the sequence, the query head and the row and key indices of that head.
    /// </summary>
    /// <typeparam name="TModifier">Your modifier struct.</typeparam>
    /// <param name="query"><c>[Batch, QueryLength, Heads·HeadDim]</c>, row-major.</param>
    /// <param name="key"><c>[Batch, KeyLength, KvHeads·HeadDim]</c>, row-major.</param>
    /// <param name="value"><c>[Batch, KeyLength, KvHeads·ValueDim]</c>, row-major.</param>
    /// <param name="output">Receives <c>[Batch, QueryLength, Heads·ValueDim]</c>; must not overlap the inputs.</param>
    /// <param name="shape">The sizes; every buffer must have exactly the length the shape gives.</param>
    /// <param name="modifier">Your modifier; read in place for the duration of the call.</param>
    /// <param name="modifiers">ALiBi slopes and sinks, log-sum-exp output, boolean or additive mask; <c>default</c> for none.</param>
    /// <param name="options">Scale, softcap, causal mask, window, normalisation and threads.</param>
    /// <exception cref="ArgumentException">As for the overload without <paramref name="modifier"/>, or the modifier changes scores
    /// and the normalisation is not softmax (parameter <c>modifier</c>); nothing has been written.</exception>
    public static void ComputeMultiHead<TModifier>(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value,
                                                   Span<float> output, AttentionShape shape, TModifier modifier, AttentionModifiers modifiers,
                                                   AttentionOptions options = default)
        where TModifier : struct, IAttentionModifier<TModifier>
    {
        ModifierValidation.ValidateUser<TModifier>(options);
        RunMultiHeadModified(query, key, value, output, shape, default, default, padded: false, modifiers, options,
                             UserMask<TModifier>.Create(ref modifier, shape.KeyLength));
    }

    /// <summary>Computes multi-head attention over padded BSNH buffers with per-sequence lengths (as <see cref="ComputeMultiHeadPadded(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, AttentionShape, ReadOnlySpan{int}, ReadOnlySpan{int}, AttentionOptions)"/>) with <paramref name="modifiers"/>.</summary>
    /// <param name="query"><c>[Batch, QueryLength, Heads·HeadDim]</c>, row-major.</param>
    /// <param name="key"><c>[Batch, KeyLength, KvHeads·HeadDim]</c>, row-major; rows past a sequence's key length are never read.</param>
    /// <param name="value"><c>[Batch, KeyLength, KvHeads·ValueDim]</c>, row-major; rows past a sequence's key length are never read.</param>
    /// <param name="output">Receives <c>[Batch, QueryLength, Heads·ValueDim]</c>, zeros in padded query rows.</param>
    /// <param name="shape">The padded sizes.</param>
    /// <param name="keyLengths"><c>[Batch]</c>: the real keys of each sequence, each in <c>[0, shape.KeyLength]</c>.</param>
    /// <param name="queryLengths"><c>[Batch]</c>: the real query rows of each sequence; empty: every row is real.</param>
    /// <param name="modifiers">As for <see cref="ComputeMultiHead(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, AttentionShape, AttentionModifiers, AttentionOptions)"/>; ALiBi uses each sequence's own lengths, padded rows' log-sum-exp is the sink's (or −∞).</param>
    /// <param name="options">Scale, softcap, causal mask and alignment, window, normalisation and threads.</param>
    /// <exception cref="ArgumentException">As for the overload without modifiers, or a modifier is invalid (parameter <c>modifiers</c>); nothing has been written.</exception>
    public static void ComputeMultiHeadPadded(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value,
                                                      Span<float> output, AttentionShape shape, ReadOnlySpan<int> keyLengths, ReadOnlySpan<int> queryLengths,
                                                      AttentionModifiers modifiers, AttentionOptions options = default) =>
        RunMultiHeadModified(query, key, value, output, shape, keyLengths, queryLengths, padded: true, modifiers, options, new NoMask(shape.KeyLength));

    /// <summary>
    /// Computes multi-head attention over padded BSNH buffers with per-sequence lengths under a modifier of your own,
    /// <paramref name="modifier"/> (see <see cref="IAttentionModifier{TSelf}"/>). Your modifier is only asked about real
    /// rows and keys of each sequence; with bottom-right alignment row i of sequence b sits at key position
    /// <c>i + keyLengths[b] − queryLengths[b]</c>.
    /// </summary>
    /// <typeparam name="TModifier">Your modifier struct.</typeparam>
    /// <param name="query"><c>[Batch, QueryLength, Heads·HeadDim]</c>, row-major.</param>
    /// <param name="key"><c>[Batch, KeyLength, KvHeads·HeadDim]</c>, row-major; rows past a sequence's key length are never read.</param>
    /// <param name="value"><c>[Batch, KeyLength, KvHeads·ValueDim]</c>, row-major; rows past a sequence's key length are never read.</param>
    /// <param name="output">Receives <c>[Batch, QueryLength, Heads·ValueDim]</c>, zeros in padded query rows.</param>
    /// <param name="shape">The padded sizes.</param>
    /// <param name="keyLengths"><c>[Batch]</c>: the real keys of each sequence, each in <c>[0, shape.KeyLength]</c>.</param>
    /// <param name="queryLengths"><c>[Batch]</c>: the real query rows of each sequence; empty: every row is real.</param>
    /// <param name="modifier">Your modifier; read in place for the duration of the call.</param>
    /// <param name="modifiers">As for the overload without <paramref name="modifier"/>; <c>default</c> for none.</param>
    /// <param name="options">Scale, softcap, causal mask and alignment, window, normalisation and threads.</param>
    /// <exception cref="ArgumentException">As for the overload without <paramref name="modifier"/>, or the modifier changes scores
    /// and the normalisation is not softmax (parameter <c>modifier</c>); nothing has been written.</exception>
    public static void ComputeMultiHeadPadded<TModifier>(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value,
                                                         Span<float> output, AttentionShape shape, ReadOnlySpan<int> keyLengths, ReadOnlySpan<int> queryLengths,
                                                         TModifier modifier, AttentionModifiers modifiers, AttentionOptions options = default)
        where TModifier : struct, IAttentionModifier<TModifier>
    {
        ModifierValidation.ValidateUser<TModifier>(options);
        RunMultiHeadModified(query, key, value, output, shape, keyLengths, queryLengths, padded: true, modifiers, options,
                             UserMask<TModifier>.Create(ref modifier, shape.KeyLength));
    }

    // Validates and runs a multi-head call with modifiers: per-sequence lengths when padded, the weights
    // [Batch, Heads, QueryLength, KeyLength] when hasWeights (the row-by-row kernel then runs: only it writes weights).
    private static void RunMultiHeadModified<TUser>(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value,
                                                    Span<float> output, in AttentionShape shape, ReadOnlySpan<int> keyLengths, ReadOnlySpan<int> queryLengths,
                                                    bool padded, in AttentionModifiers modifiers, in AttentionOptions options, TUser user,
                                                    Span<float> weights = default, bool hasWeights = false)
        where TUser : unmanaged, IAttentionMask<TUser>
    {
        var sizes = AttentionValidation.ValidateMultiHead(query, key, value, output, shape, options);
        if (hasWeights)
        {
            AttentionValidation.ValidateMultiHeadWeights(query, key, value, output, weights, shape);
        }

        if (padded)
        {
            AttentionValidation.ValidateSequenceLengths(keyLengths, queryLengths, shape);
        }

        var layout = ModifierValidation.Validate(modifiers, shape.Batch, shape.Heads, shape.QueryLength, shape.KeyLength, options,
                                                 MemoryExtent.Of((ReadOnlySpan<float>)output), MemoryExtent.Of(query), MemoryExtent.Of(key), MemoryExtent.Of(value));
        if (hasWeights)
        {
            AttentionValidation.CheckNoOverlap(MemoryExtent.Of((ReadOnlySpan<float>)modifiers.LogSumExp), MemoryExtent.Of((ReadOnlySpan<float>)weights), "modifiers", nameof(weights));
        }

        fixed (float* q = query, k = key, v = value, o = output, w = weights)
        fixed (int* kl = keyLengths, ql = queryLengths)
        {
            var problem = MultiHeadProblem(q, k, v, o, shape, sizes, options) with
            {
                KeyLengths = padded ? kl : null, QueryLengths = padded ? ql : null,
                Weights = weights.IsEmpty ? null : w, WeightsRowStride = shape.KeyLength, WeightsHeadStride = (nint)shape.QueryLength * shape.KeyLength,
            };
            RunModified(problem, modifiers, layout, options, user);
        }
    }

    /// <summary>Pins the modifiers' buffers (an empty span pins as null: none) and runs the problem with them and the user's modifier (NoMask: none).</summary>
    private static void RunModified<TUser>(in AttentionProblem problem, in AttentionModifiers modifiers, DenseMaskLayout layout, in AttentionOptions options, TUser user)
        where TUser : unmanaged, IAttentionMask<TUser>
    {
        fixed (float* slopes = modifiers.AlibiSlopes, sinks = modifiers.Sinks, lse = modifiers.LogSumExp, additive = modifiers.AdditiveMask)
        fixed (bool* boolean = modifiers.BooleanMask)
        {
            var modified = problem with
            {
                AlibiSlopes = slopes, Sinks = sinks, LogSumExp = lse, AdditiveMask = additive, BooleanMask = (byte*)boolean, DenseMask = layout,
            };
            KernelDispatch.RunWithUser(modified, user, options.Kernel, options.MaxDegreeOfParallelism);
        }
    }

    /// <summary>
    /// <see cref="ComputeMultiHead(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, AttentionShape, AttentionOptions)"/> under an internal mask (which replaces <see cref="AttentionOptions.IsCausal"/>):
    /// the hook through which tests run masks that have no public option yet, through the same validation and kernels.
    /// </summary>
    internal static void ComputeMultiHead<TMask>(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value,
                                                 Span<float> output, AttentionShape shape, AttentionOptions options, TMask mask)
        where TMask : unmanaged, IAttentionMask<TMask>
    {
        var sizes = AttentionValidation.ValidateMultiHead(query, key, value, output, shape, options);
        RunMultiHead(query, key, value, output, shape, sizes, options with { IsCausal = false }, maskFromOptions: false, mask);
    }

    /// <summary>
    /// <see cref="Compute(ReadOnlySpan2D{float}, ReadOnlySpan2D{float}, ReadOnlySpan2D{float}, Span2D{float}, Span2D{float}, AttentionOptions)"/>
    /// under an internal mask, with weights when <paramref name="hasWeights"/>, for tests.
    /// </summary>
    internal static void Compute<TMask>(ReadOnlySpan2D<float> query, ReadOnlySpan2D<float> key, ReadOnlySpan2D<float> value,
                                        Span2D<float> output, Span2D<float> weights, bool hasWeights, AttentionOptions options, TMask mask)
        where TMask : unmanaged, IAttentionMask<TMask>
    {
        float scale = AttentionValidation.ValidateSingleHead(query, key, value, output, weights, hasWeights, options);
        RunSingleHead(query, key, value, output, weights, scale, options with { IsCausal = false }, maskFromOptions: false, mask);
    }

    // Pins validated BSNH buffers and runs them under the mask the options describe (KernelDispatch picks it), or under
    // the given one.
    private static void RunMultiHead<TMask>(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value, Span<float> output,
                                            in AttentionShape shape, in AttentionValidation.MultiHeadSizes sizes, in AttentionOptions options,
                                            bool maskFromOptions, TMask mask)
        where TMask : unmanaged, IAttentionMask<TMask>
    {
        fixed (float* q = query, k = key, v = value, o = output)
        {
            Run(MultiHeadProblem(q, k, v, o, shape, sizes, options), options, maskFromOptions, mask);
        }
    }

    private static AttentionProblem MultiHeadProblem(float* q, float* k, float* v, float* o, in AttentionShape shape,
                                                     in AttentionValidation.MultiHeadSizes sizes, in AttentionOptions options)
    {
        int queryWidth = shape.Heads * shape.HeadDim, keyWidth = sizes.KvHeads * shape.HeadDim;
        int valueWidth = sizes.KvHeads * sizes.ValueDim, outputWidth = shape.Heads * sizes.ValueDim;
        return AttentionProblem.Create(q, queryWidth, k, keyWidth, v, valueWidth, o, outputWidth,
                                       shape.Batch, shape.Heads, sizes.KvHeads, shape.QueryLength, shape.KeyLength,
                                       keyRowsPerBatch: shape.KeyLength, shape.HeadDim, sizes.ValueDim, sizes.Scale, options);
    }

    // Pins one validated head (weights optional: a default view means none) and runs it, under the mask the options
    // describe or the given one.
    private static void RunSingleHead(ReadOnlySpan2D<float> query, ReadOnlySpan2D<float> key, ReadOnlySpan2D<float> value,
                                      Span2D<float> output, Span2D<float> weights, float scale, in AttentionOptions options) =>
        RunSingleHead<NoMask>(query, key, value, output, weights, scale, options, maskFromOptions: true, default);

    private static void RunSingleHead<TMask>(ReadOnlySpan2D<float> query, ReadOnlySpan2D<float> key, ReadOnlySpan2D<float> value,
                                             Span2D<float> output, Span2D<float> weights, float scale, in AttentionOptions options,
                                             bool maskFromOptions, TMask mask)
        where TMask : unmanaged, IAttentionMask<TMask>
    {
        fixed (float* q = &query.DangerousGetReference(), k = &key.DangerousGetReference(), v = &value.DangerousGetReference(),
               o = &output.DangerousGetReference(), w = &weights.DangerousGetReference())
        {
            var problem = AttentionProblem.Create(q, Views.RowStride(query), k, Views.RowStride(key), v, Views.RowStride(value),
                                                  o, Views.RowStride(output), batch: 1, heads: 1, kvHeads: 1, output.Height, key.Height,
                                                  keyRowsPerBatch: key.Height, query.Width, output.Width, scale, options)
                with { Weights = weights.Height == 0 ? null : w, WeightsRowStride = Views.RowStride(weights) };
            Run(problem, options, maskFromOptions, mask);
        }
    }

    private static void Run<TMask>(in AttentionProblem problem, in AttentionOptions options, bool maskFromOptions, TMask mask)
        where TMask : unmanaged, IAttentionMask<TMask>
    {
        if (maskFromOptions)
        {
            KernelDispatch.Run(problem, options.Kernel, options.MaxDegreeOfParallelism);
        }
        else
        {
            KernelDispatch.Run(problem, mask, options.Kernel, options.MaxDegreeOfParallelism);
        }
    }
}
