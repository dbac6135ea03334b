using CommunityToolkit.HighPerformance;
using SelfAttention.Internal;

namespace SelfAttention.Reference;

/// <summary>
/// The oracle: scaled dot-product attention written as the textbook steps, with plain loops and every sum in
/// <see cref="double"/>. It shares its validation with <see cref="Attention"/>, so both reject the same inputs with the
/// same messages. It is deliberately never optimised; it allocates one scratch row of doubles per call.
/// </summary>
public static class NaiveAttention
{
    /// <summary>Computes one head of attention; the semantics are those of <see cref="Attention.Compute(ReadOnlySpan2D{float}, ReadOnlySpan2D{float}, ReadOnlySpan2D{float}, Span2D{float}, AttentionOptions)"/>.</summary>
    /// <param name="query">Queries, <c>[queryLength, headDim]</c>; a pitch is allowed.</param>
    /// <param name="key">Keys, <c>[keyLength, headDim]</c>; a pitch is allowed.</param>
    /// <param name="value">Values, <c>[keyLength, valueDim]</c>; a pitch is allowed.</param>
    /// <param name="output">Receives the attention output, <c>[queryLength, valueDim]</c>; pitch gaps are never written.</param>
    /// <param name="options">Scale, causal mask and normalisation.</param>
    /// <exception cref="ArgumentException">A size does not match, the output overlaps an input, or an option is out of range.</exception>
    public static void Compute(ReadOnlySpan2D<float> query, ReadOnlySpan2D<float> key, ReadOnlySpan2D<float> value,
                               Span2D<float> output, AttentionOptions options = default)
    {
        float scale = AttentionValidation.ValidateSingleHead(query, key, value, output, default, hasWeights: false, options);
        ComputeHead(query, key, value, output, default, hasWeights: false, scale, options, query.Height, key.Height, default);
    }

    /// <summary>Computes one head of attention and writes the attention weights too.</summary>
    /// <param name="query">Queries, <c>[queryLength, headDim]</c>; a pitch is allowed.</param>
    /// <param name="key">Keys, <c>[keyLength, headDim]</c>; a pitch is allowed.</param>
    /// <param name="value">Values, <c>[keyLength, valueDim]</c>; a pitch is allowed.</param>
    /// <param name="output">Receives the attention output, <c>[queryLength, valueDim]</c>.</param>
    /// <param name="weights">Receives the normalised weights, <c>[queryLength, keyLength]</c>; masked entries are 0.</param>
    /// <param name="options">Scale, causal mask and normalisation.</param>
    /// <exception cref="ArgumentException">A size does not match, an output overlaps an input or the other output, or an option is out of range.</exception>
    public static void Compute(ReadOnlySpan2D<float> query, ReadOnlySpan2D<float> key, ReadOnlySpan2D<float> value,
                               Span2D<float> output, Span2D<float> weights, AttentionOptions options = default)
    {
        float scale = AttentionValidation.ValidateSingleHead(query, key, value, output, weights, hasWeights: true, options);
        ComputeHead(query, key, value, output, weights, hasWeights: true, scale, options, query.Height, key.Height, default);
    }

    /// <summary>Computes multi-head attention over flat BSNH buffers, one head at a time; see <see cref="AttentionShape"/> for the layout.</summary>
    /// <param name="query"><c>[Batch, QueryLength, Heads·HeadDim]</c>.</param>
    /// <param name="key"><c>[Batch, KeyLength, KvHeads·HeadDim]</c>.</param>
    /// <param name="value"><c>[Batch, KeyLength, KvHeads·ValueDim]</c>.</param>
    /// <param name="output">Receives <c>[Batch, QueryLength, Heads·ValueDim]</c>.</param>
    /// <param name="shape">The sizes; every buffer must have exactly the length the shape gives.</param>
    /// <param name="options">Scale, causal mask and normalisation.</param>
    /// <exception cref="ArgumentException">The shape is invalid, a buffer length does not match, or the output overlaps an input.</exception>
    public static void ComputeMultiHead(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value,
                                        Span<float> output, AttentionShape shape, AttentionOptions options = default)
    {
        var sizes = AttentionValidation.ValidateMultiHead(query, key, value, output, shape, options);
        int groupSize = shape.Heads / sizes.KvHeads;
        for (int b = 0; b < shape.Batch; b++)
        {
            for (int h = 0; h < shape.Heads; h++)
            {
                var views = HeadViews.Create(query, key, value, output, shape, b, h, h / groupSize);
                ComputeHead(views.Query, views.Key, views.Value, views.Output, default, hasWeights: false, sizes.Scale, options, shape.QueryLength, shape.KeyLength, default);
            }
        }
    }

    /// <summary>
    /// Computes multi-head attention over padded BSNH buffers with per-sequence lengths, one head at a time; the
    /// semantics of <see cref="Attention.ComputeMultiHeadPadded(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, AttentionShape, ReadOnlySpan{int}, ReadOnlySpan{int}, AttentionOptions)"/>.
    /// </summary>
    /// <param name="query"><c>[Batch, QueryLength, Heads·HeadDim]</c>.</param>
    /// <param name="key"><c>[Batch, KeyLength, KvHeads·HeadDim]</c>.</param>
    /// <param name="value"><c>[Batch, KeyLength, KvHeads·ValueDim]</c>.</param>
    /// <param name="output">Receives <c>[Batch, QueryLength, Heads·ValueDim]</c>, zeros in padded query rows.</param>
    /// <param name="shape">The padded sizes.</param>
    /// <param name="keyLengths"><c>[Batch]</c>: the real keys of each sequence, each in <c>[0, shape.KeyLength]</c>.</param>
    /// <param name="queryLengths"><c>[Batch]</c>: the real query rows of each sequence; empty: every row is real.</param>
    /// <param name="options">Scale, causal mask and alignment, window and normalisation.</param>
    /// <exception cref="ArgumentException">As for <see cref="Attention"/>'s overload.</exception>
    public static void ComputeMultiHeadPadded(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value,
                                              Span<float> output, AttentionShape shape, ReadOnlySpan<int> keyLengths, ReadOnlySpan<int> queryLengths,
                                              AttentionOptions options = default)
    {
        var sizes = AttentionValidation.ValidateMultiHead(query, key, value, output, shape, options);
        AttentionValidation.ValidateSequenceLengths(keyLengths, queryLengths, shape);
        int groupSize = shape.Heads / sizes.KvHeads;
        for (int b = 0; b < shape.Batch; b++)
        {
            int realQueries = queryLengths.IsEmpty ? shape.QueryLength : queryLengths[b];
            for (int h = 0; h < shape.Heads; h++)
            {
                var views = HeadViews.Create(query, key, value, output, shape, b, h, h / groupSize);
                ComputeHead(views.Query, views.Key, views.Value, views.Output, default, hasWeights: false, sizes.Scale, options, realQueries, keyLengths[b], default);
            }
        }
    }

    /// <summary>
    /// Computes multi-head attention over packed variable-length sequences (<c>cu_seqlens</c> offsets), one sequence and
    /// head at a time; the semantics of <see cref="Attention.ComputeMultiHeadPacked(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, AttentionShape, ReadOnlySpan{int}, ReadOnlySpan{int}, AttentionOptions)"/>.
    /// </summary>
    /// <param name="query"><c>[queryOffsets[Batch], Heads·HeadDim]</c>.</param>
    /// <param name="key"><c>[keyOffsets[Batch], KvHeads·HeadDim]</c>.</param>
    /// <param name="value"><c>[keyOffsets[Batch], KvHeads·ValueDim]</c>.</param>
    /// <param name="output">Receives <c>[queryOffsets[Batch], Heads·ValueDim]</c>.</param>
    /// <param name="shape">Batch = sequences; QueryLength and KeyLength = the longest a sequence may be; the head sizes.</param>
    /// <param name="queryOffsets"><c>[Batch + 1]</c> cumulative query lengths from 0.</param>
    /// <param name="keyOffsets"><c>[Batch + 1]</c> cumulative key lengths from 0.</param>
    /// <param name="options">Scale, softcap, causal mask and alignment, window and normalisation.</param>
    /// <exception cref="ArgumentException">As for <see cref="Attention"/>'s overload.</exception>
    public static void ComputeMultiHeadPacked(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value,
                                              Span<float> output, AttentionShape shape, ReadOnlySpan<int> queryOffsets, ReadOnlySpan<int> keyOffsets,
                                              AttentionOptions options = default)
    {
        var sizes = AttentionValidation.ValidatePacked(query, key, value, output, shape, queryOffsets, keyOffsets, options).Sizes;
        int queryWidth = shape.Heads * shape.HeadDim, keyWidth = sizes.KvHeads * shape.HeadDim;
        int valueWidth = sizes.KvHeads * sizes.ValueDim, outputWidth = shape.Heads * sizes.ValueDim;
        for (int b = 0; b < shape.Batch; b++)
        {
            int queryLength = queryOffsets[b + 1] - queryOffsets[b], keyLength = keyOffsets[b + 1] - keyOffsets[b];
            var sequence = shape with { Batch = 1, QueryLength = queryLength, KeyLength = keyLength };
            ComputeMultiHead(query.Slice(queryOffsets[b] * queryWidth, queryLength * queryWidth), key.Slice(keyOffsets[b] * keyWidth, keyLength * keyWidth),
                             value.Slice(keyOffsets[b] * valueWidth, keyLength * valueWidth), output.Slice(queryOffsets[b] * outputWidth, queryLength * outputWidth),
                             sequence, options);
        }
    }

    /// <summary>Multi-head attention over packed variable-length sequences with <paramref name="modifiers"/>, one sequence and head at a time; the semantics of <see cref="Attention.ComputeMultiHeadPacked(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, AttentionShape, ReadOnlySpan{int}, ReadOnlySpan{int}, AttentionModifiers, AttentionOptions)"/>.</summary>
    /// <param name="query"><c>[queryOffsets[Batch], Heads·HeadDim]</c>.</param>
    /// <param name="key"><c>[keyOffsets[Batch], KvHeads·HeadDim]</c>.</param>
    /// <param name="value"><c>[keyOffsets[Batch], KvHeads·ValueDim]</c>.</param>
    /// <param name="output">Receives <c>[queryOffsets[Batch], Heads·ValueDim]</c>.</param>
    /// <param name="shape">Batch = sequences; QueryLength and KeyLength = the longest a sequence may be; the head sizes.</param>
    /// <param name="queryOffsets"><c>[Batch + 1]</c> cumulative query lengths from 0.</param>
    /// <param name="keyOffsets"><c>[Batch + 1]</c> cumulative key lengths from 0.</param>
    /// <param name="modifiers">ALiBi slopes and sinks (<c>[Heads]</c>), log-sum-exp output (<c>[Heads, queryOffsets[Batch]]</c>), boolean or additive mask (indexed as a padded call's); <c>default</c> for none.</param>
    /// <param name="options">Scale, softcap, causal mask and alignment, window and normalisation.</param>
    /// <exception cref="ArgumentException">As for <see cref="Attention"/>'s overload.</exception>
    public static void ComputeMultiHeadPacked(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value,
                                              Span<float> output, AttentionShape shape, ReadOnlySpan<int> queryOffsets, ReadOnlySpan<int> keyOffsets,
                                              AttentionModifiers modifiers, AttentionOptions options = default) =>
        RunPacked(query, key, value, output, shape, queryOffsets, keyOffsets, modifiers, options, default(NoModifier));

    /// <summary>Multi-head attention over packed variable-length sequences with every head's weights, one sequence and head at a time; the semantics of <see cref="Attention.ComputeMultiHeadPacked(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, AttentionShape, ReadOnlySpan{int}, ReadOnlySpan{int}, AttentionOptions)"/>.</summary>
    /// <param name="query"><c>[queryOffsets[Batch], Heads·HeadDim]</c>.</param>
    /// <param name="key"><c>[keyOffsets[Batch], KvHeads·HeadDim]</c>.</param>
    /// <param name="value"><c>[keyOffsets[Batch], KvHeads·ValueDim]</c>.</param>
    /// <param name="output">Receives <c>[queryOffsets[Batch], Heads·ValueDim]</c>.</param>
    /// <param name="weights">Receives the sequences' <c>[Heads, q_b, k_b]</c> blocks in order, masked entries 0.</param>
    /// <param name="shape">Batch = sequences; QueryLength and KeyLength = the longest a sequence may be; the head sizes.</param>
    /// <param name="queryOffsets"><c>[Batch + 1]</c> cumulative query lengths from 0.</param>
    /// <param name="keyOffsets"><c>[Batch + 1]</c> cumulative key lengths from 0.</param>
    /// <param name="options">Scale, softcap, causal mask and alignment, window and normalisation.</param>
    /// <exception cref="ArgumentException">As for <see cref="Attention"/>'s overload.</exception>
    public static void ComputeMultiHeadPacked(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value,
                                              Span<float> output, Span<float> weights, AttentionShape shape, ReadOnlySpan<int> queryOffsets,
                                              ReadOnlySpan<int> keyOffsets, AttentionOptions options = default) =>
        ComputeMultiHeadPacked(query, key, value, output, weights, shape, queryOffsets, keyOffsets, default, options);

    /// <summary>Multi-head attention over packed variable-length sequences with every head's weights and <paramref name="modifiers"/>, one sequence and head at a time; the semantics of <see cref="Attention.ComputeMultiHeadPacked(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, AttentionShape, ReadOnlySpan{int}, ReadOnlySpan{int}, AttentionModifiers, AttentionOptions)"/>.</summary>
    /// <param name="query"><c>[queryOffsets[Batch], Heads·HeadDim]</c>.</param>
    /// <param name="key"><c>[keyOffsets[Batch], KvHeads·HeadDim]</c>.</param>
    /// <param name="value"><c>[keyOffsets[Batch], KvHeads·ValueDim]</c>.</param>
    /// <param name="output">Receives <c>[queryOffsets[Batch], Heads·ValueDim]</c>.</param>
    /// <param name="weights">Receives the sequences' <c>[Heads, q_b, k_b]</c> blocks in order, masked entries 0.</param>
    /// <param name="shape">Batch = sequences; QueryLength and KeyLength = the longest a sequence may be; the head sizes.</param>
    /// <param name="queryOffsets"><c>[Batch + 1]</c> cumulative query lengths from 0.</param>
    /// <param name="keyOffsets"><c>[Batch + 1]</c> cumulative key lengths from 0.</param>
    /// <param name="modifiers">ALiBi slopes and sinks (<c>[Heads]</c>), log-sum-exp output (<c>[Heads, queryOffsets[Batch]]</c>), boolean or additive mask; <c>default</c> for none.</param>
    /// <param name="options">Scale, softcap, causal mask and alignment, window and normalisation.</param>
    /// <exception cref="ArgumentException">As for <see cref="Attention"/>'s overload.</exception>
    public static void ComputeMultiHeadPacked(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value,
                                              Span<float> output, Span<float> weights, AttentionShape shape, ReadOnlySpan<int> queryOffsets,
                                              ReadOnlySpan<int> keyOffsets, AttentionModifiers modifiers, AttentionOptions options = default) =>
        RunPacked(query, key, value, output, shape, queryOffsets, keyOffsets, modifiers, options, default(NoModifier), weights, hasWeights: true);

    /// <summary>Multi-head attention over packed variable-length sequences under your <paramref name="modifier"/> and <paramref name="modifiers"/>; the semantics of <see cref="Attention.ComputeMultiHeadPacked{TModifier}(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, AttentionShape, ReadOnlySpan{int}, ReadOnlySpan{int}, TModifier, AttentionModifiers, AttentionOptions)"/>.</summary>
    /// <typeparam name="TModifier">Your modifier struct.</typeparam>
    /// <param name="query"><c>[queryOffsets[Batch], Heads·HeadDim]</c>.</param>
    /// <param name="key"><c>[keyOffsets[Batch], KvHeads·HeadDim]</c>.</param>
    /// <param name="value"><c>[keyOffsets[Batch], KvHeads·ValueDim]</c>.</param>
    /// <param name="output">Receives <c>[queryOffsets[Batch], Heads·ValueDim]</c>.</param>
    /// <param name="shape">Batch = sequences; QueryLength and KeyLength = the longest a sequence may be; the head sizes.</param>
    /// <param name="queryOffsets"><c>[Batch + 1]</c> cumulative query lengths from 0.</param>
    /// <param name="keyOffsets"><c>[Batch + 1]</c> cumulative key lengths from 0.</param>
    /// <param name="modifier">Your modifier, asked with the sequence index and indices inside the sequence.</param>
    /// <param name="modifiers">As for the overload without <paramref name="modifier"/>; <c>default</c> for none.</param>
    /// <param name="options">Scale, softcap, causal mask and alignment, window and normalisation.</param>
    /// <exception cref="ArgumentException">As for <see cref="Attention"/>'s overload.</exception>
    public static void ComputeMultiHeadPacked<TModifier>(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value,
                                                         Span<float> output, AttentionShape shape, ReadOnlySpan<int> queryOffsets, ReadOnlySpan<int> keyOffsets,
                                                         TModifier modifier, AttentionModifiers modifiers, AttentionOptions options = default)
        where TModifier : struct, IAttentionModifier<TModifier>
    {
        ModifierValidation.ValidateUser<TModifier>(options);
        RunPacked(query, key, value, output, shape, queryOffsets, keyOffsets, modifiers, options, modifier);
    }

    private static void RunPacked<TModifier>(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value,
                                             Span<float> output, AttentionShape shape, ReadOnlySpan<int> queryOffsets, ReadOnlySpan<int> keyOffsets,
                                             AttentionModifiers modifiers, in AttentionOptions options, in TModifier user,
                                             Span<float> weights = default, bool hasWeights = false)
        where TModifier : struct, IAttentionModifier<TModifier>
    {
        var (packed, layout) = ModifierValidation.ValidatePacked(query, key, value, output, shape, queryOffsets, keyOffsets, modifiers, options, weights, hasWeights);
        var sizes = packed.Sizes;
        int queryWidth = shape.Heads * shape.HeadDim, keyWidth = sizes.KvHeads * shape.HeadDim;
        int valueWidth = sizes.KvHeads * sizes.ValueDim, outputWidth = shape.Heads * sizes.ValueDim;
        int groupSize = shape.Heads / sizes.KvHeads;
        int weightsStart = 0;
        for (int b = 0; b < shape.Batch; b++)
        {
            // Sequence b alone, as a call of one sequence at its own lengths; its log-sum-exp rows of head h start at
            // h·totalRows + queryOffsets[b] ([Heads, totalRows]), its dense mask's at sequence b's, its weights
            // ([Heads, q_b, k_b]) after the sequences before it.
            int queryLength = queryOffsets[b + 1] - queryOffsets[b], keyLength = keyOffsets[b + 1] - keyOffsets[b];
            var sequence = shape with { Batch = 1, QueryLength = queryLength, KeyLength = keyLength };
            var sequenceQuery = query.Slice(queryOffsets[b] * queryWidth, queryLength * queryWidth);
            var sequenceKey = key.Slice(keyOffsets[b] * keyWidth, keyLength * keyWidth);
            var sequenceValue = value.Slice(keyOffsets[b] * valueWidth, keyLength * valueWidth);
            var sequenceOutput = output.Slice(queryOffsets[b] * outputWidth, queryLength * outputWidth);
            for (int h = 0; h < shape.Heads; h++)
            {
                var views = HeadViews.Create(sequenceQuery, sequenceKey, sequenceValue, sequenceOutput, sequence, 0, h, h / groupSize);
                // A head with no (row, key) pair has no weights to write (and Span2D cannot view an empty block).
                bool headHasWeights = hasWeights && queryLength * keyLength > 0;
                Span2D<float> headWeights = headHasWeights ? weights.Slice(weightsStart, queryLength * keyLength).AsSpan2D(queryLength, keyLength) : default;
                weightsStart += headHasWeights ? queryLength * keyLength : 0;
                ComputeHead(views.Query, views.Key, views.Value, views.Output, headWeights, headHasWeights, sizes.Scale, options, queryLength, keyLength,
                            new HeadModifiers(modifiers, layout, b, h, h * packed.QueryRows + queryOffsets[b], queryLength), user);
            }
        }
    }

    /// <summary>One head of attention with <paramref name="modifiers"/>; the semantics of <see cref="Attention.Compute(ReadOnlySpan2D{float}, ReadOnlySpan2D{float}, ReadOnlySpan2D{float}, Span2D{float}, AttentionModifiers, AttentionOptions)"/>.</summary>
    /// <param name="query">Queries, <c>[queryLength, headDim]</c>; a pitch is allowed.</param>
    /// <param name="key">Keys, <c>[keyLength, headDim]</c>; a pitch is allowed.</param>
    /// <param name="value">Values, <c>[keyLength, valueDim]</c>; a pitch is allowed.</param>
    /// <param name="output">Receives the attention output, <c>[queryLength, valueDim]</c>.</param>
    /// <param name="modifiers">ALiBi slope, sink, log-sum-exp output, boolean or additive mask; empty members are none.</param>
    /// <param name="options">Scale, softcap, causal mask, window and normalisation.</param>
    /// <exception cref="ArgumentException">As for <see cref="Attention"/>'s overload.</exception>
    public static void Compute(ReadOnlySpan2D<float> query, ReadOnlySpan2D<float> key, ReadOnlySpan2D<float> value,
                               Span2D<float> output, AttentionModifiers modifiers, AttentionOptions options = default) =>
        Compute(query, key, value, output, default, hasWeights: false, modifiers, options, default(NoModifier));

    /// <summary>One head of attention with <paramref name="modifiers"/>, weights too; the semantics of <see cref="Attention.Compute(ReadOnlySpan2D{float}, ReadOnlySpan2D{float}, ReadOnlySpan2D{float}, Span2D{float}, Span2D{float}, AttentionModifiers, AttentionOptions)"/>.</summary>
    /// <param name="query">Queries, <c>[queryLength, headDim]</c>; a pitch is allowed.</param>
    /// <param name="key">Keys, <c>[keyLength, headDim]</c>; a pitch is allowed.</param>
    /// <param name="value">Values, <c>[keyLength, valueDim]</c>; a pitch is allowed.</param>
    /// <param name="output">Receives the attention output, <c>[queryLength, valueDim]</c>.</param>
    /// <param name="weights">Receives the normalised weights, <c>[queryLength, keyLength]</c>; masked entries are 0.</param>
    /// <param name="modifiers">ALiBi slope, sink, log-sum-exp output, boolean or additive mask; empty members are none.</param>
    /// <param name="options">Scale, softcap, causal mask, window and normalisation.</param>
    /// <exception cref="ArgumentException">As for <see cref="Attention"/>'s overload.</exception>
    public static void Compute(ReadOnlySpan2D<float> query, ReadOnlySpan2D<float> key, ReadOnlySpan2D<float> value,
                               Span2D<float> output, Span2D<float> weights, AttentionModifiers modifiers, AttentionOptions options = default) =>
        Compute(query, key, value, output, weights, hasWeights: true, modifiers, options, default(NoModifier));

    /// <summary>One head of attention under your <paramref name="modifier"/> and <paramref name="modifiers"/>; the semantics of <see cref="Attention.Compute{TModifier}(ReadOnlySpan2D{float}, ReadOnlySpan2D{float}, ReadOnlySpan2D{float}, Span2D{float}, TModifier, AttentionModifiers, AttentionOptions)"/>.</summary>
    /// <typeparam name="TModifier">Your modifier struct.</typeparam>
    /// <param name="query">Queries, <c>[queryLength, headDim]</c>; a pitch is allowed.</param>
    /// <param name="key">Keys, <c>[keyLength, headDim]</c>; a pitch is allowed.</param>
    /// <param name="value">Values, <c>[keyLength, valueDim]</c>; a pitch is allowed.</param>
    /// <param name="output">Receives the attention output, <c>[queryLength, valueDim]</c>.</param>
    /// <param name="modifier">Your modifier.</param>
    /// <param name="modifiers">ALiBi slope, sink, log-sum-exp output, boolean or additive mask; <c>default</c> for none.</param>
    /// <param name="options">Scale, softcap, causal mask, window and normalisation.</param>
    /// <exception cref="ArgumentException">As for <see cref="Attention"/>'s overload.</exception>
    public static void Compute<TModifier>(ReadOnlySpan2D<float> query, ReadOnlySpan2D<float> key, ReadOnlySpan2D<float> value,
                                          Span2D<float> output, TModifier modifier, AttentionModifiers modifiers, AttentionOptions options = default)
        where TModifier : struct, IAttentionModifier<TModifier>
    {
        ModifierValidation.ValidateUser<TModifier>(options);
        Compute(query, key, value, output, default, hasWeights: false, modifiers, options, modifier);
    }

    /// <summary>One head of attention under your <paramref name="modifier"/> and <paramref name="modifiers"/>, weights too.</summary>
    /// <typeparam name="TModifier">Your modifier struct.</typeparam>
    /// <param name="query">Queries, <c>[queryLength, headDim]</c>; a pitch is allowed.</param>
    /// <param name="key">Keys, <c>[keyLength, headDim]</c>; a pitch is allowed.</param>
    /// <param name="value">Values, <c>[keyLength, valueDim]</c>; a pitch is allowed.</param>
    /// <param name="output">Receives the attention output, <c>[queryLength, valueDim]</c>.</param>
    /// <param name="weights">Receives the normalised weights, <c>[queryLength, keyLength]</c>; masked entries are 0.</param>
    /// <param name="modifier">Your modifier.</param>
    /// <param name="modifiers">ALiBi slope, sink, log-sum-exp output, boolean or additive mask; <c>default</c> for none.</param>
    /// <param name="options">Scale, softcap, causal mask, window and normalisation.</param>
    /// <exception cref="ArgumentException">As for <see cref="Attention"/>'s overload.</exception>
    public static void Compute<TModifier>(ReadOnlySpan2D<float> query, ReadOnlySpan2D<float> key, ReadOnlySpan2D<float> value,
                                          Span2D<float> output, Span2D<float> weights, TModifier modifier, AttentionModifiers modifiers,
                                          AttentionOptions options = default)
        where TModifier : struct, IAttentionModifier<TModifier>
    {
        ModifierValidation.ValidateUser<TModifier>(options);
        Compute(query, key, value, output, weights, hasWeights: true, modifiers, options, modifier);
    }

    private static void Compute<TModifier>(ReadOnlySpan2D<float> query, ReadOnlySpan2D<float> key, ReadOnlySpan2D<float> value,
                                           Span2D<float> output, Span2D<float> weights, bool hasWeights, AttentionModifiers modifiers, in AttentionOptions options,
                                           in TModifier user)
        where TModifier : struct, IAttentionModifier<TModifier>
    {
        float scale = AttentionValidation.ValidateSingleHead(query, key, value, output, weights, hasWeights, options);
        var layout = ModifierValidation.Validate(modifiers, 1, 1, query.Height, key.Height, options,
                                                 MemoryExtent.Of(output), MemoryExtent.Of(query), MemoryExtent.Of(key), MemoryExtent.Of(value));
        if (hasWeights)
        {
            AttentionValidation.CheckNoOverlap(MemoryExtent.Of((ReadOnlySpan<float>)modifiers.LogSumExp), MemoryExtent.Of(weights), "modifiers", nameof(weights));
        }

        ComputeHead(query, key, value, output, weights, hasWeights, scale, options, query.Height, key.Height, new HeadModifiers(modifiers, layout, 0, 0, 0, query.Height), user);
    }

    /// <summary>Multi-head attention over flat BSNH buffers with <paramref name="modifiers"/>, one head at a time; the semantics of <see cref="Attention.ComputeMultiHead(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, AttentionShape, AttentionOptions)"/>.</summary>
    /// <param name="query"><c>[Batch, QueryLength, Heads·HeadDim]</c>.</param>
    /// <param name="key"><c>[Batch, KeyLength, KvHeads·HeadDim]</c>.</param>
    /// <param name="value"><c>[Batch, KeyLength, KvHeads·ValueDim]</c>.</param>
    /// <param name="output">Receives <c>[Batch, QueryLength, Heads·ValueDim]</c>.</param>
    /// <param name="shape">The sizes.</param>
    /// <param name="modifiers">ALiBi slopes and sinks (<c>[Heads]</c>), log-sum-exp output, boolean or additive mask; empty members are none.</param>
    /// <param name="options">Scale, softcap, causal mask, window and normalisation.</param>
    /// <exception cref="ArgumentException">As for <see cref="Attention"/>'s overload.</exception>
    public static void ComputeMultiHead(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value,
                                                Span<float> output, AttentionShape shape, AttentionModifiers modifiers, AttentionOptions options = default) =>
        RunMultiHeadModified(query, key, value, output, shape, default, default, padded: false, modifiers, options, default(NoModifier));

    /// <summary>Multi-head attention over flat BSNH buffers under your <paramref name="modifier"/> and <paramref name="modifiers"/>, one head at a time; the semantics of <see cref="Attention.ComputeMultiHead{TModifier}(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, AttentionShape, TModifier, AttentionModifiers, AttentionOptions)"/>.</summary>
    /// <typeparam name="TModifier">Your modifier struct.</typeparam>
    /// <param name="query"><c>[Batch, QueryLength, Heads·HeadDim]</c>.</param>
    /// <param name="key"><c>[Batch, KeyLength, KvHeads·HeadDim]</c>.</param>
    /// <param name="value"><c>[Batch, KeyLength, KvHeads·ValueDim]</c>.</param>
    /// <param name="output">Receives <c>[Batch, QueryLength, Heads·ValueDim]</c>.</param>
    /// <param name="shape">The sizes.</param>
    /// <param name="modifier">Your modifier.</param>
    /// <param name="modifiers">ALiBi slopes and sinks, log-sum-exp output, boolean or additive mask; <c>default</c> for none.</param>
    /// <param name="options">Scale, softcap, causal mask, window and normalisation.</param>
    /// <exception cref="ArgumentException">As for <see cref="Attention"/>'s overload.</exception>
    public static void ComputeMultiHead<TModifier>(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value,
                                                   Span<float> output, AttentionShape shape, TModifier modifier, AttentionModifiers modifiers,
                                                   AttentionOptions options = default)
        where TModifier : struct, IAttentionModifier<TModifier>
    {
        ModifierValidation.ValidateUser<TModifier>(options);
        RunMultiHeadModified(query, key, value, output, shape, default, default, padded: false, modifiers, options, modifier);
    }

    /// <summary>Multi-head attention over padded BSNH buffers with per-sequence lengths and <paramref name="modifiers"/>; the semantics of <see cref="Attention.ComputeMultiHeadPadded(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, AttentionShape, ReadOnlySpan{int}, ReadOnlySpan{int}, AttentionOptions)"/>.</summary>
    /// <param name="query"><c>[Batch, QueryLength, Heads·HeadDim]</c>.</param>
    /// <param name="key"><c>[Batch, KeyLength, KvHeads·HeadDim]</c>.</param>
    /// <param name="value"><c>[Batch, KeyLength, KvHeads·ValueDim]</c>.</param>
    /// <param name="output">Receives <c>[Batch, QueryLength, Heads·ValueDim]</c>, zeros in padded query rows.</param>
    /// <param name="shape">The padded sizes.</param>
    /// <param name="keyLengths"><c>[Batch]</c>: the real keys of each sequence.</param>
    /// <param name="queryLengths"><c>[Batch]</c>: the real query rows of each sequence; empty: every row is real.</param>
    /// <param name="modifiers">As for <see cref="ComputeMultiHead(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, AttentionShape, AttentionModifiers, AttentionOptions)"/>.</param>
    /// <param name="options">Scale, softcap, causal mask and alignment, window and normalisation.</param>
    /// <exception cref="ArgumentException">As for <see cref="Attention"/>'s overload.</exception>
    public static void ComputeMultiHeadPadded(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value,
                                                      Span<float> output, AttentionShape shape, ReadOnlySpan<int> keyLengths, ReadOnlySpan<int> queryLengths,
                                                      AttentionModifiers modifiers, AttentionOptions options = default) =>
        RunMultiHeadModified(query, key, value, output, shape, keyLengths, queryLengths, padded: true, modifiers, options, default(NoModifier));

    /// <summary>Multi-head attention over padded BSNH buffers with per-sequence lengths under your <paramref name="modifier"/> and <paramref name="modifiers"/>; the semantics of <see cref="Attention.ComputeMultiHeadPadded{TModifier}(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, AttentionShape, ReadOnlySpan{int}, ReadOnlySpan{int}, TModifier, AttentionModifiers, AttentionOptions)"/>.</summary>
    /// <typeparam name="TModifier">Your modifier struct.</typeparam>
    /// <param name="query"><c>[Batch, QueryLength, Heads·HeadDim]</c>.</param>
    /// <param name="key"><c>[Batch, KeyLength, KvHeads·HeadDim]</c>.</param>
    /// <param name="value"><c>[Batch, KeyLength, KvHeads·ValueDim]</c>.</param>
    /// <param name="output">Receives <c>[Batch, QueryLength, Heads·ValueDim]</c>, zeros in padded query rows.</param>
    /// <param name="shape">The padded sizes.</param>
    /// <param name="keyLengths"><c>[Batch]</c>: the real keys of each sequence.</param>
    /// <param name="queryLengths"><c>[Batch]</c>: the real query rows of each sequence; empty: every row is real.</param>
    /// <param name="modifier">Your modifier.</param>
    /// <param name="modifiers">As for the overload without <paramref name="modifier"/>; <c>default</c> for none.</param>
    /// <param name="options">Scale, softcap, causal mask and alignment, window and normalisation.</param>
    /// <exception cref="ArgumentException">As for <see cref="Attention"/>'s overload.</exception>
    public static void ComputeMultiHeadPadded<TModifier>(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value,
                                                         Span<float> output, AttentionShape shape, ReadOnlySpan<int> keyLengths, ReadOnlySpan<int> queryLengths,
                                                         TModifier modifier, AttentionModifiers modifiers, AttentionOptions options = default)
        where TModifier : struct, IAttentionModifier<TModifier>
    {
        ModifierValidation.ValidateUser<TModifier>(options);
        RunMultiHeadModified(query, key, value, output, shape, keyLengths, queryLengths, padded: true, modifiers, options, modifier);
    }

    /// <summary>Multi-head attention over flat BSNH buffers with every head's weights, one head at a time; the semantics of <see cref="Attention.ComputeMultiHead(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, AttentionShape, AttentionOptions)"/>.</summary>
    /// <param name="query"><c>[Batch, QueryLength, Heads·HeadDim]</c>.</param>
    /// <param name="key"><c>[Batch, KeyLength, KvHeads·HeadDim]</c>.</param>
    /// <param name="value"><c>[Batch, KeyLength, KvHeads·ValueDim]</c>.</param>
    /// <param name="output">Receives <c>[Batch, QueryLength, Heads·ValueDim]</c>.</param>
    /// <param name="weights">Receives <c>[Batch, Heads, QueryLength, KeyLength]</c>, masked entries 0.</param>
    /// <param name="shape">The sizes.</param>
    /// <param name="options">Scale, softcap, causal mask, window and normalisation.</param>
    /// <exception cref="ArgumentException">As for <see cref="Attention"/>'s overload.</exception>
    public static void ComputeMultiHead(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value,
                                        Span<float> output, Span<float> weights, AttentionShape shape, AttentionOptions options = default) =>
        ComputeMultiHead(query, key, value, output, weights, shape, default, options);

    /// <summary>Multi-head attention over flat BSNH buffers with every head's weights and <paramref name="modifiers"/>; the semantics of <see cref="Attention.ComputeMultiHead(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, AttentionShape, AttentionModifiers, AttentionOptions)"/>.</summary>
    /// <param name="query"><c>[Batch, QueryLength, Heads·HeadDim]</c>.</param>
    /// <param name="key"><c>[Batch, KeyLength, KvHeads·HeadDim]</c>.</param>
    /// <param name="value"><c>[Batch, KeyLength, KvHeads·ValueDim]</c>.</param>
    /// <param name="output">Receives <c>[Batch, QueryLength, Heads·ValueDim]</c>.</param>
    /// <param name="weights">Receives <c>[Batch, Heads, QueryLength, KeyLength]</c>, masked entries 0.</param>
    /// <param name="shape">The sizes.</param>
    /// <param name="modifiers">ALiBi slopes and sinks, log-sum-exp output, boolean or additive mask; <c>default</c> for none.</param>
    /// <param name="options">Scale, softcap, causal mask, window and normalisation.</param>
    /// <exception cref="ArgumentException">As for <see cref="Attention"/>'s overload.</exception>
    public static void ComputeMultiHead(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value,
                                        Span<float> output, Span<float> weights, AttentionShape shape, AttentionModifiers modifiers,
                                        AttentionOptions options = default) =>
        RunMultiHeadModified(query, key, value, output, shape, default, default, padded: false, modifiers, options, default(NoModifier), weights, hasWeights: true);

    /// <summary>Multi-head attention over padded BSNH buffers with per-sequence lengths and every head's weights, one head at a time; the semantics of <see cref="Attention.ComputeMultiHeadPadded(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, AttentionShape, ReadOnlySpan{int}, ReadOnlySpan{int}, AttentionOptions)"/>.</summary>
    /// <param name="query"><c>[Batch, QueryLength, Heads·HeadDim]</c>.</param>
    /// <param name="key"><c>[Batch, KeyLength, KvHeads·HeadDim]</c>.</param>
    /// <param name="value"><c>[Batch, KeyLength, KvHeads·ValueDim]</c>.</param>
    /// <param name="output">Receives <c>[Batch, QueryLength, Heads·ValueDim]</c>, zeros in padded query rows.</param>
    /// <param name="weights">Receives <c>[Batch, Heads, QueryLength, KeyLength]</c>, masked and padded entries 0.</param>
    /// <param name="shape">The padded sizes.</param>
    /// <param name="keyLengths"><c>[Batch]</c>: the real keys of each sequence.</param>
    /// <param name="queryLengths"><c>[Batch]</c>: the real query rows of each sequence; empty: every row is real.</param>
    /// <param name="options">Scale, softcap, causal mask and alignment, window and normalisation.</param>
    /// <exception cref="ArgumentException">As for <see cref="Attention"/>'s overload.</exception>
    public static void ComputeMultiHeadPadded(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value,
                                              Span<float> output, Span<float> weights, AttentionShape shape, ReadOnlySpan<int> keyLengths,
                                              ReadOnlySpan<int> queryLengths, AttentionOptions options = default) =>
        ComputeMultiHeadPadded(query, key, value, output, weights, shape, keyLengths, queryLengths, default, options);

    /// <summary>Multi-head attention over padded BSNH buffers with per-sequence lengths, every head's weights and <paramref name="modifiers"/>, one head at a time; the semantics of <see cref="Attention.ComputeMultiHeadPadded(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, AttentionShape, ReadOnlySpan{int}, ReadOnlySpan{int}, AttentionModifiers, AttentionOptions)"/>.</summary>
    /// <param name="query"><c>[Batch, QueryLength, Heads·HeadDim]</c>.</param>
    /// <param name="key"><c>[Batch, KeyLength, KvHeads·HeadDim]</c>.</param>
    /// <param name="value"><c>[Batch, KeyLength, KvHeads·ValueDim]</c>.</param>
    /// <param name="output">Receives <c>[Batch, QueryLength, Heads·ValueDim]</c>, zeros in padded query rows.</param>
    /// <param name="weights">Receives <c>[Batch, Heads, QueryLength, KeyLength]</c>, masked and padded entries 0.</param>
    /// <param name="shape">The padded sizes.</param>
    /// <param name="keyLengths"><c>[Batch]</c>: the real keys of each sequence.</param>
    /// <param name="queryLengths"><c>[Batch]</c>: the real query rows of each sequence; empty: every row is real.</param>
    /// <param name="modifiers">ALiBi slopes and sinks, log-sum-exp output, boolean or additive mask; <c>default</c> for none.</param>
    /// <param name="options">Scale, softcap, causal mask and alignment, window and normalisation.</param>
    /// <exception cref="ArgumentException">As for <see cref="Attention"/>'s overload.</exception>
    public static void ComputeMultiHeadPadded(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value,
                                              Span<float> output, Span<float> weights, AttentionShape shape, ReadOnlySpan<int> keyLengths,
                                              ReadOnlySpan<int> queryLengths, AttentionModifiers modifiers, AttentionOptions options = default) =>
        RunMultiHeadModified(query, key, value, output, shape, keyLengths, queryLengths, padded: true, modifiers, options, default(NoModifier), weights, hasWeights: true);

    // Validates as Attention's overloads do, in the same order (shape and buffers, weights, lengths, modifiers, the
    // log-sum-exp against the weights), then runs one head at a time.
    private static void RunMultiHeadModified<TModifier>(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value,
                                                        Span<float> output, AttentionShape shape, ReadOnlySpan<int> keyLengths, ReadOnlySpan<int> queryLengths,
                                                        bool padded, AttentionModifiers modifiers, in AttentionOptions options, in TModifier user,
                                                        Span<float> weights = default, bool hasWeights = false)
        where TModifier : struct, IAttentionModifier<TModifier>
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

        int groupSize = shape.Heads / sizes.KvHeads;
        for (int b = 0; b < shape.Batch; b++)
        {
            int realQueries = padded && !queryLengths.IsEmpty ? queryLengths[b] : shape.QueryLength;
            int realKeys = padded ? keyLengths[b] : shape.KeyLength;
            for (int h = 0; h < shape.Heads; h++)
            {
                var views = HeadViews.Create(query, key, value, output, shape, b, h, h / groupSize);
                int block = shape.QueryLength * shape.KeyLength;
                Span2D<float> headWeights = weights.IsEmpty ? default : weights.Slice((b * shape.Heads + h) * block, block).AsSpan2D(shape.QueryLength, shape.KeyLength);
                ComputeHead(views.Query, views.Key, views.Value, views.Output, headWeights, hasWeights: !weights.IsEmpty, sizes.Scale, options, realQueries, realKeys,
                            new HeadModifiers(modifiers, layout, b, h, (b * shape.Heads + h) * shape.QueryLength, shape.QueryLength), user);
            }
        }
    }

    /// <summary>
    /// The modifiers as one head (b, h) sees them: its ALiBi slope and sink (none: 0 and −∞), its rows of the
    /// log-sum-exp output (<c>queryLength</c> of them from <c>logSumExpStart</c>), and its dense mask's elements.
    /// </summary>
    private readonly ref struct HeadModifiers
    {
        public readonly bool HasAlibi, HasSink, HasBoolean, HasAdditive;
        public readonly int Batch, Head;
        public readonly double Slope;
        private readonly double _sink;
        public readonly Span<float> LogSumExp;
        private readonly ReadOnlySpan<bool> _boolean;
        private readonly ReadOnlySpan<float> _additive;
        private readonly long _start, _query, _key;

        public HeadModifiers(AttentionModifiers modifiers, Kernels.Masks.DenseMaskLayout layout, int b, int h, int logSumExpStart, int queryLength)
        {
            Batch = b;
            Head = h;
            HasAlibi = !modifiers.AlibiSlopes.IsEmpty;
            HasSink = !modifiers.Sinks.IsEmpty;
            Slope = HasAlibi ? modifiers.AlibiSlopes[h] : 0;
            _sink = HasSink ? modifiers.Sinks[h] : 0;
            LogSumExp = modifiers.LogSumExp.IsEmpty ? default : modifiers.LogSumExp.Slice(logSumExpStart, queryLength);
            _boolean = modifiers.BooleanMask;
            _additive = modifiers.AdditiveMask;
            HasBoolean = !_boolean.IsEmpty;
            HasAdditive = !_additive.IsEmpty;
            _start = (long)b * layout.BatchStride + (long)h * layout.HeadStride;
            _query = layout.QueryStride;
            _key = layout.KeyStride;
        }

        /// <summary>The head's sink, −∞ when there is none (also for <c>default</c>, the call without modifiers).</summary>
        public double Sink => HasSink ? _sink : double.NegativeInfinity;

        /// <summary>Element (i, j) of this head's boolean mask (true when there is none).</summary>
        public bool Allows(int i, int j) => !HasBoolean || _boolean[(int)(_start + i * _query + j * _key)];

        /// <summary>Element (i, j) of this head's additive mask (0 when there is none).</summary>
        public double Bias(int i, int j) => HasAdditive ? _additive[(int)(_start + i * _query + j * _key)] : 0;
    }

    /// <summary>
    /// The visibility rule, written out: query row i of a sequence with <paramref name="realQueries"/> query rows and
    /// <paramref name="realKeys"/> keys sees key j when both are real, when causal lets it (j ≤ i + offset) and when the
    /// window does (i + offset − left ≤ j ≤ i + offset + right, −1 unbounded), with offset = realKeys − realQueries
    /// (bottom-right) or 0 (top-left).
    /// </summary>
    private static bool Sees(int i, int j, int realQueries, int realKeys, in AttentionOptions options)
    {
        if (i >= realQueries || j >= realKeys)
        {
            return false;
        }

        long position = options.CausalAlignment == CausalAlignment.TopLeft ? i : (long)i + realKeys - realQueries;
        if (options.IsCausal && j > position)
        {
            return false;
        }

        if (options.Window is AttentionWindow window)
        {
            if (window.Left != -1 && j < position - window.Left)
            {
                return false;
            }

            if (window.Right != -1 && j > position + window.Right)
            {
                return false;
            }
        }

        return true;
    }

    private static void ComputeHead(ReadOnlySpan2D<float> query, ReadOnlySpan2D<float> key, ReadOnlySpan2D<float> value,
                                    Span2D<float> output, Span2D<float> weights, bool hasWeights, float scale, in AttentionOptions options,
                                    int realQueries, int realKeys, HeadModifiers modifiers) =>
        ComputeHead(query, key, value, output, weights, hasWeights, scale, options, realQueries, realKeys, modifiers, default(NoModifier));

    // user: the user's modifier (NoModifier: none), asked only about the elements the built-in rules leave visible.
    private static void ComputeHead<TModifier>(ReadOnlySpan2D<float> query, ReadOnlySpan2D<float> key, ReadOnlySpan2D<float> value,
                                               Span2D<float> output, Span2D<float> weights, bool hasWeights, float scale, in AttentionOptions options,
                                               int realQueries, int realKeys, HeadModifiers modifiers, in TModifier user)
        where TModifier : struct, IAttentionModifier<TModifier>
    {
        int queryLength = output.Height, keyLength = key.Height, headDim = query.Width, valueDim = output.Width;
        var scores = new double[keyLength];
        var hidden = new bool[keyLength];
        for (int i = 0; i < queryLength; i++)
        {
            // The user's mask: its key range (a bound, or the whole rule when exact), then its per-element rule.
            var kind = TModifier.MaskKind;
            (int userStart, int userEnd) = kind is AttentionMaskKind.Range or AttentionMaskKind.BoundedElements
                ? TModifier.KeyRange(user, modifiers.Batch, modifiers.Head, i, keyLength)
                : (0, keyLength);
            for (int j = 0; j < keyLength; j++)
            {
                hidden[j] = !Sees(i, j, realQueries, realKeys, options) || !modifiers.Allows(i, j)
                            || (kind != AttentionMaskKind.None && (j < userStart || j >= userEnd
                                                                   || (kind != AttentionMaskKind.Range && !user.IsVisible(modifiers.Batch, modifiers.Head, i, j))));
            }

            // Pass 1: scores s_j = (q_i · k_j) · scale, summed in double.
            for (int j = 0; j < keyLength; j++)
            {
                double dot = 0;
                for (int c = 0; c < headDim; c++)
                {
                    dot += (double)query[i, c] * key[j, c];
                }

                scores[j] = dot * scale;
            }

            // Pass 1b: the score modifiers, in order: softcap s = cap·tanh(s / cap), the user's modification (in float, its
            // signature), ALiBi s −= slope·|i + n_k − n_q − j| (the sequence's own lengths), then the additive mask
            // s += bias[i, j]. A score the user's modification or the bias makes −∞ is hidden.
            for (int j = 0; j < keyLength; j++)
            {
                if (options.SoftCap is float cap)
                {
                    scores[j] = cap * Math.Tanh(scores[j] / cap);
                }

                if (TModifier.ModifiesScores && !hidden[j])
                {
                    scores[j] = user.ModifyScore((float)scores[j], modifiers.Batch, modifiers.Head, i, j);
                    hidden[j] = double.IsNegativeInfinity(scores[j]);
                }

                if (modifiers.HasAlibi)
                {
                    scores[j] -= modifiers.Slope * Math.Abs((double)i + realKeys - realQueries - j);
                }

                if (modifiers.HasAdditive && !hidden[j])
                {
                    scores[j] += modifiers.Bias(i, j);
                    hidden[j] = double.IsNegativeInfinity(scores[j]);
                }
            }

            // Pass 2: the mask (Sees). Masked scores become −∞, so they drop out of the softmax; the sum normalisation skips them.
            for (int j = 0; j < keyLength; j++)
            {
                if (hidden[j])
                {
                    scores[j] = double.NegativeInfinity;
                }
            }

            // Pass 3: normalise the visible scores into weights; masked weights are 0.
            double sum = 0;
            if (options.Normalization == AttentionNormalization.Softmax)
            {
                double max = double.NegativeInfinity;
                for (int j = 0; j < keyLength; j++)
                {
                    max = Math.Max(max, scores[j]);
                }

                // The sink (GPT-OSS) joins the max and the denominator, with no value.
                max = Math.Max(max, modifiers.Sink);
                for (int j = 0; j < keyLength; j++)
                {
                    // A row with every key masked has max = −∞; its weights are 0, not exp(−∞ − −∞) = NaN.
                    scores[j] = hidden[j] ? 0 : Math.Exp(scores[j] - max);
                    sum += scores[j];
                }

                if (modifiers.HasSink)
                {
                    sum += Math.Exp(modifiers.Sink - max);
                }

                // The log-sum-exp: ln of the whole denominator, max included; −∞ for a row with no key and no sink.
                if (!modifiers.LogSumExp.IsEmpty)
                {
                    modifiers.LogSumExp[i] = sum == 0 ? float.NegativeInfinity : (float)(max + Math.Log(sum));
                }
            }
            else
            {
                for (int j = 0; j < keyLength; j++)
                {
                    if (hidden[j])
                    {
                        scores[j] = 0;
                    }

                    sum += scores[j];
                }
            }

            double inverse = sum == 0 ? 0 : 1 / sum;
            for (int j = 0; j < keyLength; j++)
            {
                // Masked weights stay 0 even when a NaN elsewhere in the row makes the inverse NaN.
                scores[j] = hidden[j] ? 0 : scores[j] * inverse;
            }

            // Pass 4: output row i = Σ_j w_j · v_j, summed in double.
            for (int c = 0; c < valueDim; c++)
            {
                double acc = 0;
                for (int j = 0; j < keyLength; j++)
                {
                    if (!hidden[j])
                    {
                        acc += scores[j] * value[j, c];
                    }
                }

                output[i, c] = (float)acc;
            }

            if (hasWeights)
            {
                for (int j = 0; j < keyLength; j++)
                {
                    weights[i, j] = (float)scores[j];
                }
            }
        }
    }
}
