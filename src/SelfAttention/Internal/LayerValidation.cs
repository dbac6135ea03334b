using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace SelfAttention.Internal;

/// <summary>
/// The checks of a <see cref="MultiHeadAttention"/> forward pass (shared with its naive reference) and the size and
/// overlap helpers of the layer-level types (<see cref="MultiHeadAttention"/>, <see cref="KvCache"/>, the
/// tokenization tables). Every size product is formed in 128-bit arithmetic, so no combination of <see cref="int"/>
/// factors can wrap, and overlap is tested on the float spans themselves (never through a byte view, which cannot
/// describe a buffer of 2²⁹ floats or more).
/// </summary>
internal static class LayerValidation
{
    /// <summary>
    /// The most elements one managed array may hold (<see cref="Array.MaxLength"/>): a size above it cannot be
    /// allocated or rented, so it is rejected up front as an <see cref="ArgumentException"/>, not an
    /// <see cref="OutOfMemoryException"/> from the runtime.
    /// </summary>
    public static int MaxArrayLength => Array.MaxLength;

    /// <summary>
    /// The caller's parameter names, so that every exception names a parameter the caller actually passed, with the
    /// descriptions built once (a successful call formats no message).
    /// </summary>
    public sealed class ForwardNames
    {
        private ForwardNames(string query, string keyValue, string queryLength, string keyLength)
        {
            (Query, KeyValue, QueryLength, KeyLength) = (query, keyValue, queryLength, keyLength);
            QueryElements = $"{query} length (batch·{queryLength}·ModelDim)";
            KeyValueElements = $"{keyValue} length (batch·{keyLength}·ModelDim)";
            OutputElements = $"output length (batch·{queryLength}·ModelDim)";
            ProjectedQueries = $"projected queries (batch·{queryLength}·Heads·HeadDim)";
            Context = $"attention context (batch·{queryLength}·Heads·ValueDim)";
            ProjectedKeys = $"projected keys (batch·{keyLength}·KvHeads·HeadDim)";
            ProjectedValues = $"projected values (batch·{keyLength}·KvHeads·ValueDim)";
            PerHeadWeights = $"attentionWeights length (PerHead: batch·Heads·{queryLength}·{keyLength})";
            AveragedWeights = $"attentionWeights length (AverageOverHeads: batch·{queryLength}·{keyLength})";
        }

        /// <summary><see cref="MultiHeadAttention.Forward(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, int, int, AttentionOptions)"/> and its weights overload.</summary>
        public static ForwardNames Cross { get; } = new("query", "keyValue", "queryLength", "keyLength");

        /// <summary>The self-attention overloads: one input, one sequence length.</summary>
        public static ForwardNames Self { get; } = new("input", "input", "sequenceLength", "sequenceLength");

        public string Query { get; }

        public string KeyValue { get; }

        public string QueryLength { get; }

        public string KeyLength { get; }

        /// <summary>Whether queries, keys and values come from one buffer.</summary>
        public bool IsSelf => ReferenceEquals(Query, KeyValue);

        public string QueryElements { get; }

        public string KeyValueElements { get; }

        public string OutputElements { get; }

        public string ProjectedQueries { get; }

        public string Context { get; }

        public string ProjectedKeys { get; }

        public string ProjectedValues { get; }

        public string PerHeadWeights { get; }

        public string AveragedWeights { get; }
    }

    /// <summary>The sizes of a validated forward pass, in elements; each fits in an array.</summary>
    public readonly record struct ForwardSizes(int QueryRows, int KeyRows, int ProjectedQueries, int ProjectedKeys, int ProjectedValues, int Context);

    /// <summary>Validates a cross-attention forward pass and returns the number of query rows (<c>batch · queryLength</c>).</summary>
    public static long Validate(MultiHeadAttention layer, ReadOnlySpan<float> query, ReadOnlySpan<float> keyValue, Span<float> output,
                                Span<float> weights, AttentionWeightsMode mode, bool hasWeights, in AttentionShape shape,
                                in AttentionOptions options, out long keyRows)
    {
        var sizes = Validate(layer, ForwardNames.Cross, query, keyValue, output, weights, mode, hasWeights, shape, options);
        keyRows = sizes.KeyRows;
        return sizes.QueryRows;
    }

    /// <summary>
    /// Validates a forward pass, naming the caller's parameters through <paramref name="names"/>: lengths, options,
    /// the weights mode, every size product (the projected intermediates must fit in a pooled array), the buffer
    /// lengths and overlaps, in that order. Nothing has been written when it throws.
    /// </summary>
    public static ForwardSizes Validate(MultiHeadAttention layer, ForwardNames names, ReadOnlySpan<float> query, ReadOnlySpan<float> keyValue,
                                        Span<float> output, Span<float> weights, AttentionWeightsMode mode, bool hasWeights,
                                        in AttentionShape shape, in AttentionOptions options)
    {
        if (shape.Batch < 0) ThrowHelper.ThrowNegative("batch", "batch", shape.Batch);
        if (shape.QueryLength < 0) ThrowHelper.ThrowNegative(names.QueryLength, names.QueryLength, shape.QueryLength);
        if (shape.KeyLength < 0) ThrowHelper.ThrowNegative(names.KeyLength, names.KeyLength, shape.KeyLength);
        AttentionValidation.ValidateOptions(options, layer.HeadDim);
        if (hasWeights && mode is not (AttentionWeightsMode.PerHead or AttentionWeightsMode.AverageOverHeads))
        {
            throw new ArgumentOutOfRangeException(nameof(mode), mode,
                string.Create(CultureInfo.InvariantCulture, $"mode: expected PerHead (0) or AverageOverHeads (1), actual {(int)mode}."));
        }

        int batch = shape.Batch, nq = shape.QueryLength, nk = shape.KeyLength, e = layer.ModelDim;
        long queryElements = AttentionValidation.Product(names.QueryLength, names.QueryElements, int.MaxValue, batch, nq, e);
        long keyValueElements = AttentionValidation.Product(names.KeyLength, names.KeyValueElements, int.MaxValue, batch, nk, e);

        // The projected intermediates are rented from the pool, so each must fit in one array.
        long projectedQueries = AttentionValidation.Product(names.QueryLength, names.ProjectedQueries, MaxArrayLength, batch, nq, layer.Heads, layer.HeadDim);
        long context = AttentionValidation.Product(names.QueryLength, names.Context, MaxArrayLength, batch, nq, layer.Heads, layer.ValueDim);
        long projectedKeys = AttentionValidation.Product(names.KeyLength, names.ProjectedKeys, MaxArrayLength, batch, nk, layer.KvHeads, layer.HeadDim);
        long projectedValues = AttentionValidation.Product(names.KeyLength, names.ProjectedValues, MaxArrayLength, batch, nk, layer.KvHeads, layer.ValueDim);

        long expectedWeights = 0;
        if (hasWeights)
        {
            expectedWeights = mode == AttentionWeightsMode.PerHead
                ? AttentionValidation.Product("attentionWeights", names.PerHeadWeights, int.MaxValue, batch, layer.Heads, nq, nk)
                : AttentionValidation.Product("attentionWeights", names.AveragedWeights, int.MaxValue, batch, nq, nk);
        }

        if (query.Length != queryElements) ThrowHelper.ThrowSizeMismatch(names.Query, names.QueryElements, queryElements, query.Length);
        if (!names.IsSelf && keyValue.Length != keyValueElements) ThrowHelper.ThrowSizeMismatch(names.KeyValue, names.KeyValueElements, keyValueElements, keyValue.Length);
        if (output.Length != queryElements) ThrowHelper.ThrowSizeMismatch(nameof(output), names.OutputElements, queryElements, output.Length);
        if (hasWeights && weights.Length != expectedWeights)
        {
            ThrowHelper.ThrowSizeMismatch("attentionWeights", mode == AttentionWeightsMode.PerHead ? names.PerHeadWeights : names.AveragedWeights, expectedWeights, weights.Length);
        }

        AttentionValidation.CheckNoOverlap(output, query, nameof(output), names.Query);
        if (!names.IsSelf)
        {
            AttentionValidation.CheckNoOverlap(output, keyValue, nameof(output), names.KeyValue);
        }

        if (hasWeights)
        {
            AttentionValidation.CheckNoOverlap(weights, query, "attentionWeights", names.Query);
            if (!names.IsSelf)
            {
                AttentionValidation.CheckNoOverlap(weights, keyValue, "attentionWeights", names.KeyValue);
            }

            AttentionValidation.CheckNoOverlap(weights, output, "attentionWeights", nameof(output));
        }

        return new ForwardSizes((int)((long)batch * nq), (int)((long)batch * nk), (int)projectedQueries, (int)projectedKeys, (int)projectedValues, (int)context);
    }

}
