using System.Runtime.InteropServices;

namespace SelfAttention.Internal;

/// <summary>The checks of a <see cref="MultiHeadAttention"/> forward pass, shared with its naive reference.</summary>
internal static class LayerValidation
{
    /// <summary>Validates a forward pass and returns the number of query rows (<c>batch · queryLength</c>).</summary>
    public static long Validate(MultiHeadAttention layer, ReadOnlySpan<float> query, ReadOnlySpan<float> keyValue, Span<float> output,
                                Span<float> weights, AttentionWeightsMode mode, bool hasWeights, in AttentionShape shape,
                                in AttentionOptions options, out long keyRows)
    {
        if (shape.Batch < 0) ThrowHelper.ThrowNegative("batch", "batch", shape.Batch);
        if (shape.QueryLength < 0) ThrowHelper.ThrowNegative("queryLength", "queryLength", shape.QueryLength);
        if (shape.KeyLength < 0) ThrowHelper.ThrowNegative("keyLength", "keyLength", shape.KeyLength);
        AttentionValidation.ValidateOptions(options, layer.HeadDim);

        long queryRows = AttentionValidation.CheckedProduct("queryLength", "batch·queryLength", shape.Batch, shape.QueryLength);
        keyRows = AttentionValidation.CheckedProduct("keyLength", "batch·keyLength", shape.Batch, shape.KeyLength);
        long queryLength = AttentionValidation.CheckedProduct("queryLength", "query (batch·queryLength·ModelDim)", (int)queryRows, layer.ModelDim);
        long keyValueLength = AttentionValidation.CheckedProduct("keyLength", "keyValue (batch·keyLength·ModelDim)", (int)keyRows, layer.ModelDim);

        // The projected intermediates must fit in a span as well.
        AttentionValidation.CheckedProduct("queryLength", "projected queries (batch·queryLength·Heads·HeadDim)", (int)queryRows, layer.Heads, layer.HeadDim);
        AttentionValidation.CheckedProduct("queryLength", "context (batch·queryLength·Heads·ValueDim)", (int)queryRows, layer.Heads, layer.ValueDim);
        AttentionValidation.CheckedProduct("keyLength", "projected keys (batch·keyLength·KvHeads·HeadDim)", (int)keyRows, layer.KvHeads, layer.HeadDim);
        AttentionValidation.CheckedProduct("keyLength", "projected values (batch·keyLength·KvHeads·ValueDim)", (int)keyRows, layer.KvHeads, layer.ValueDim);

        if (query.Length != queryLength) ThrowHelper.ThrowSizeMismatch(nameof(query), "query length (batch·queryLength·ModelDim)", queryLength, query.Length);
        if (keyValue.Length != keyValueLength) ThrowHelper.ThrowSizeMismatch(nameof(keyValue), "keyValue length (batch·keyLength·ModelDim)", keyValueLength, keyValue.Length);
        if (output.Length != queryLength) ThrowHelper.ThrowSizeMismatch(nameof(output), "output length (batch·queryLength·ModelDim)", queryLength, output.Length);

        ReadOnlySpan<byte> outputBytes = MemoryMarshal.AsBytes((ReadOnlySpan<float>)output);
        AttentionValidation.CheckNoOverlap(outputBytes, MemoryMarshal.AsBytes(query), nameof(output), nameof(query));
        AttentionValidation.CheckNoOverlap(outputBytes, MemoryMarshal.AsBytes(keyValue), nameof(output), nameof(keyValue));
        if (hasWeights)
        {
            if (mode is not (AttentionWeightsMode.PerHead or AttentionWeightsMode.AverageOverHeads))
            {
                throw new ArgumentOutOfRangeException(nameof(mode), mode, $"mode: expected PerHead or AverageOverHeads, actual {(int)mode}.");
            }

            long expected = mode == AttentionWeightsMode.PerHead
                ? AttentionValidation.CheckedProduct("attentionWeights", "attention weights (batch·Heads·queryLength·keyLength)", shape.Batch, layer.Heads, shape.QueryLength, shape.KeyLength)
                : AttentionValidation.CheckedProduct("attentionWeights", "attention weights (batch·queryLength·keyLength)", shape.Batch, shape.QueryLength, shape.KeyLength);
            if (weights.Length != expected)
            {
                ThrowHelper.ThrowSizeMismatch("attentionWeights", $"attentionWeights length ({mode})", expected, weights.Length);
            }

            ReadOnlySpan<byte> weightBytes = MemoryMarshal.AsBytes((ReadOnlySpan<float>)weights);
            AttentionValidation.CheckNoOverlap(weightBytes, MemoryMarshal.AsBytes(query), "attentionWeights", nameof(query));
            AttentionValidation.CheckNoOverlap(weightBytes, MemoryMarshal.AsBytes(keyValue), "attentionWeights", nameof(keyValue));
            AttentionValidation.CheckNoOverlap(weightBytes, outputBytes, "attentionWeights", nameof(output));
        }

        return queryRows;
    }
}
