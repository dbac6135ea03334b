using CommunityToolkit.HighPerformance;
using SelfAttention.Cli.CommandLine;

namespace SelfAttention.Cli.Arrays;

/// <summary>Runs attention over checked <see cref="ArrayInputs"/>: the output, and the weights when asked for.</summary>
internal static class ArrayAttention
{
    /// <summary>
    /// The output <c>[Batch, QueryLength, Heads·ValueDim]</c>. With <paramref name="withWeights"/>,
    /// <paramref name="weights"/> receives the weights <c>[Batch, Heads, QueryLength, KeyLength]</c>: each head then
    /// runs through the weights overload of <see cref="Attention.Compute(ReadOnlySpan2D{float}, ReadOnlySpan2D{float}, ReadOnlySpan2D{float}, Span2D{float}, Span2D{float}, AttentionOptions)"/>
    /// on pitched views of the BSNH buffers; without, the whole problem is one <see cref="Attention.ComputeMultiHead(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, AttentionShape, AttentionOptions)"/>
    /// call and <paramref name="weights"/> is null.
    /// </summary>
    /// <remarks>
    /// The library validates what the tool passes; an <see cref="ArgumentException"/> it still throws (an input the
    /// tool's own checks let through) becomes a <see cref="UsageException"/> for <paramref name="command"/>.
    /// </remarks>
    public static float[] Compute(string command, ArrayInputs inputs, AttentionOptions options, bool withWeights, out float[]? weights)
    {
        try
        {
            return ComputeCore(inputs, options, withWeights, out weights);
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"{command}: the library refused these inputs: {e.Message}");
        }
    }

    /// <summary>
    /// The output of a padded batch: <see cref="Attention.ComputeMultiHeadPadded(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, AttentionShape, ReadOnlySpan{int}, ReadOnlySpan{int}, AttentionOptions)"/> with the per-sequence key and query
    /// lengths (the library checks their count and range; a refusal becomes a <see cref="UsageException"/>). No weights.
    /// </summary>
    public static float[] ComputePadded(string command, ArrayInputs inputs, AttentionOptions options, int[] keyLengths, int[]? queryLengths, out float[]? weights)
    {
        weights = null;
        AttentionShape shape = inputs.Shape;
        var output = new float[(long)shape.Batch * shape.QueryLength * shape.Heads * shape.ValueDim];
        try
        {
            Attention.ComputeMultiHeadPadded(inputs.Query.Data, inputs.Key.Data, inputs.Value.Data, output, shape, keyLengths, queryLengths ?? [], options);
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"{command}: the library refused these lengths or inputs: {e.Message}");
        }

        return output;
    }

    /// <summary>
    /// The modifiers of a <c>run</c> call, as plain arrays (empty: none): ALiBi slopes and sinks <c>[Heads]</c>, a
    /// log-sum-exp output <c>[Batch, Heads, QueryLength]</c>, and the mask with its strides.
    /// </summary>
    public sealed record Modifiers(float[] Slopes, float[] Sinks, float[] LogSumExp, MaskArray? Mask, AttentionMaskStrides Strides)
    {
        /// <summary>Whether any buffer modifier is given (softcap is an option and needs none of this).</summary>
        public bool Any => Slopes.Length > 0 || Sinks.Length > 0 || LogSumExp.Length > 0 || Mask is not null;

        /// <summary>The library's view of these buffers for head-range <paramref name="heads"/> (all: default), sequence b's mask from <paramref name="maskStart"/>.</summary>
        public AttentionModifiers View(Range heads, Range lse, long maskStart, AttentionMaskStrides strides) => new()
        {
            AlibiSlopes = Slopes.Length == 0 ? default : Slopes.AsSpan(heads),
            Sinks = Sinks.Length == 0 ? default : Sinks.AsSpan(heads),
            LogSumExp = LogSumExp.Length == 0 ? default : LogSumExp.AsSpan(lse),
            BooleanMask = Mask?.Boolean is { } boolean ? boolean.AsSpan((int)maskStart) : default,
            AdditiveMask = Mask?.Additive is { } additive ? additive.AsSpan((int)maskStart) : default,
            MaskStrides = strides,
        };
    }

    /// <summary>
    /// <see cref="Compute(string, ArrayInputs, AttentionOptions, bool, out float[])"/> or, with <paramref name="keyLengths"/>,
    /// <see cref="ComputePadded"/>, with <paramref name="modifiers"/> (the log-sum-exp is written into its array).
    /// With weights each head runs alone with its own slope, sink, log-sum-exp rows and mask start.
    /// </summary>
    public static float[] ComputeModified(string command, ArrayInputs inputs, AttentionOptions options, bool withWeights, int[]? keyLengths, int[]? queryLengths,
                                          Modifiers modifiers, out float[]? weights)
    {
        AttentionShape shape = inputs.Shape;
        float[] q = inputs.Query.Data, k = inputs.Key.Data, v = inputs.Value.Data;
        var output = new float[(long)shape.Batch * shape.QueryLength * shape.Heads * shape.ValueDim];
        weights = withWeights ? new float[(long)shape.Batch * shape.Heads * shape.QueryLength * shape.KeyLength] : null;
        try
        {
            if (keyLengths is not null)
            {
                Attention.ComputeMultiHeadPadded(q, k, v, output, shape, keyLengths, queryLengths ?? [], modifiers.View(.., .., 0, modifiers.Strides), options);
            }
            else if (weights is null || shape.QueryLength == 0 || shape.KeyLength == 0)
            {
                Attention.ComputeMultiHead(q, k, v, output, shape, modifiers.View(.., .., 0, modifiers.Strides), options);
            }
            else
            {
                int nq = shape.QueryLength, nk = shape.KeyLength, d = shape.HeadDim, dv = shape.ValueDim;
                int group = shape.Heads / shape.KvHeads;
                int queryPitch = shape.Heads * d, keyPitch = shape.KvHeads * d, valuePitch = shape.KvHeads * dv, outputPitch = shape.Heads * dv;
                var strides = modifiers.Strides;
                for (int b = 0; b < shape.Batch; b++)
                {
                    for (int h = 0; h < shape.Heads; h++)
                    {
                        int g = h / group, row = (b * shape.Heads + h) * nq;
                        var query = new ReadOnlySpan2D<float>(q, b * nq * queryPitch + h * d, nq, d, queryPitch - d);
                        var key = new ReadOnlySpan2D<float>(k, b * nk * keyPitch + g * d, nk, d, keyPitch - d);
                        var value = new ReadOnlySpan2D<float>(v, b * nk * valuePitch + g * dv, nk, dv, valuePitch - dv);
                        var head = new Span2D<float>(output, b * nq * outputPitch + h * dv, nq, dv, outputPitch - dv);
                        var headWeights = new Span2D<float>(weights, row * nk, nq, nk, 0);
                        var view = modifiers.View(h..(h + 1), row..(row + nq), (b * strides.Batch) + (h * strides.Head), strides with { Batch = 0, Head = 0 });
                        Attention.Compute(query, key, value, head, headWeights, view, options);
                    }
                }
            }
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"{command}: the library refused these inputs: {e.Message}");
        }

        return output;
    }

    private static float[] ComputeCore(ArrayInputs inputs, AttentionOptions options, bool withWeights, out float[]? weights)
    {
        AttentionShape shape = inputs.Shape;
        float[] q = inputs.Query.Data, k = inputs.Key.Data, v = inputs.Value.Data;
        var output = new float[(long)shape.Batch * shape.QueryLength * shape.Heads * shape.ValueDim];
        weights = withWeights ? new float[(long)shape.Batch * shape.Heads * shape.QueryLength * shape.KeyLength] : null;
        if (weights is null || shape.QueryLength == 0 || shape.KeyLength == 0)
        {
            Attention.ComputeMultiHead(q, k, v, output, shape, options);
            return output;
        }

        int nq = shape.QueryLength, nk = shape.KeyLength, d = shape.HeadDim, dv = shape.ValueDim;
        int group = shape.Heads / shape.KvHeads;
        int queryPitch = shape.Heads * d, keyPitch = shape.KvHeads * d, valuePitch = shape.KvHeads * dv, outputPitch = shape.Heads * dv;
        for (int b = 0; b < shape.Batch; b++)
        {
            for (int h = 0; h < shape.Heads; h++)
            {
                int g = h / group;
                var query = new ReadOnlySpan2D<float>(q, b * nq * queryPitch + h * d, nq, d, queryPitch - d);
                var key = new ReadOnlySpan2D<float>(k, b * nk * keyPitch + g * d, nk, d, keyPitch - d);
                var value = new ReadOnlySpan2D<float>(v, b * nk * valuePitch + g * dv, nk, dv, valuePitch - dv);
                var head = new Span2D<float>(output, b * nq * outputPitch + h * dv, nq, dv, outputPitch - dv);
                var headWeights = new Span2D<float>(weights, (b * shape.Heads + h) * nq * nk, nq, nk, 0);
                Attention.Compute(query, key, value, head, headWeights, options);
            }
        }

        return output;
    }
}
