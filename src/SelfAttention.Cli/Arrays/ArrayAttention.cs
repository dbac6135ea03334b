using SelfAttention.Cli.CommandLine;

namespace SelfAttention.Cli.Arrays;

/// <summary>Runs attention over checked <see cref="ArrayInputs"/>: the output, and the weights when asked for.</summary>
internal static class ArrayAttention
{
    /// <summary>
    /// The output <c>[Batch, QueryLength, Heads·ValueDim]</c>, one <see cref="Attention.ComputeMultiHead(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, AttentionShape, AttentionOptions)"/>
    /// call. With <paramref name="withWeights"/>, <paramref name="weights"/> receives the weights
    /// <c>[Batch, Heads, QueryLength, KeyLength]</c> from the same call (the weights overload); without, it is null.
    /// </summary>
    /// <remarks>
    /// The library validates what the tool passes; an <see cref="ArgumentException"/> it still throws (an input the
    /// tool's own checks let through) becomes a <see cref="UsageException"/> for <paramref name="command"/>.
    /// </remarks>
    public static float[] Compute(string command, ArrayInputs inputs, AttentionOptions options, bool withWeights, out float[]? weights) =>
        ComputeModified(command, inputs, options, withWeights, keyLengths: null, queryLengths: null, modifiers: null, out weights);

    /// <summary>
    /// The modifiers of a <c>run</c> call, as plain arrays (empty: none): ALiBi slopes and sinks <c>[Heads]</c>, a
    /// log-sum-exp output <c>[Batch, Heads, QueryLength]</c>, and the mask with its strides.
    /// </summary>
    public sealed record Modifiers(float[] Slopes, float[] Sinks, float[] LogSumExp, MaskArray? Mask, AttentionMaskStrides Strides)
    {
        /// <summary>Whether any buffer modifier is given (softcap is an option and needs none of this).</summary>
        public bool Any => Slopes.Length > 0 || Sinks.Length > 0 || LogSumExp.Length > 0 || Mask is not null;

        /// <summary>The library's view of these buffers.</summary>
        public AttentionModifiers View() => new()
        {
            AlibiSlopes = Slopes,
            Sinks = Sinks,
            LogSumExp = LogSumExp,
            BooleanMask = Mask?.Boolean is { } boolean ? boolean : default,
            AdditiveMask = Mask?.Additive is { } additive ? additive : default,
            MaskStrides = Strides,
        };
    }

    /// <summary>
    /// The output of a <c>run</c> call, one library call whatever it asks for: with <paramref name="keyLengths"/> (and
    /// optionally <paramref name="queryLengths"/>) a padded batch (<see cref="Attention.ComputeMultiHeadPadded(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, AttentionShape, ReadOnlySpan{int}, ReadOnlySpan{int}, AttentionModifiers, AttentionOptions)"/>),
    /// with <paramref name="modifiers"/> (null: none; the log-sum-exp is written into its array), and with
    /// <paramref name="withWeights"/> the weights <c>[Batch, Heads, QueryLength, KeyLength]</c> into
    /// <paramref name="weights"/> (null otherwise) by the weights overloads. A refusal by the library becomes a
    /// <see cref="UsageException"/> for <paramref name="command"/>.
    /// </summary>
    public static float[] ComputeModified(string command, ArrayInputs inputs, AttentionOptions options, bool withWeights, int[]? keyLengths, int[]? queryLengths,
                                          Modifiers? modifiers, out float[]? weights)
    {
        AttentionShape shape = inputs.Shape;
        float[] q = inputs.Query.Data, k = inputs.Key.Data, v = inputs.Value.Data;
        var output = new float[(long)shape.Batch * shape.QueryLength * shape.Heads * shape.ValueDim];
        weights = withWeights ? new float[(long)shape.Batch * shape.Heads * shape.QueryLength * shape.KeyLength] : null;
        AttentionModifiers view = modifiers is null ? default : modifiers.View();
        try
        {
            if (keyLengths is not null && weights is not null)
            {
                Attention.ComputeMultiHeadPadded(q, k, v, output, weights, shape, keyLengths, queryLengths ?? [], view, options);
            }
            else if (keyLengths is not null)
            {
                Attention.ComputeMultiHeadPadded(q, k, v, output, shape, keyLengths, queryLengths ?? [], view, options);
            }
            else if (weights is not null)
            {
                Attention.ComputeMultiHead(q, k, v, output, weights, shape, view, options);
            }
            else
            {
                Attention.ComputeMultiHead(q, k, v, output, shape, view, options);
            }
        }
        catch (ArgumentException e)
        {
            string what = keyLengths is null ? "inputs" : "lengths or inputs";
            throw new UsageException($"{command}: the library refused these {what}: {e.Message}");
        }

        return output;
    }
}
