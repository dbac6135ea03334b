using System.Globalization;
using SelfAttention.Kernels.Masks;

namespace SelfAttention.Internal;

/// <summary>
/// The checks on <see cref="AttentionModifiers"/>, shared by <see cref="Attention"/> and <see cref="Reference.NaiveAttention"/>
/// (so both reject the same inputs with the same messages), run after the call's sizes are known and before anything
/// is written. Every failure is an <see cref="ArgumentException"/> whose parameter is <c>modifiers</c> and whose message
/// names the member, with expected and actual.
/// </summary>
internal static class ModifierValidation
{
    private const string Param = "modifiers";

    /// <summary>
    /// Validates the modifiers of a call with these sizes and returns the dense mask's layout (the default strides when
    /// none are given). the output and input extents are the call's buffers, for the overlap check of the
    /// log-sum-exp output. A packed call passes its total query rows as <paramref name="packedQueryRows"/> (its
    /// log-sum-exp is <c>[Heads, packedQueryRows]</c>) and the shape's longest lengths as the query and key lengths,
    /// over which its dense mask is indexed as a padded call's.
    /// </summary>
    public static DenseMaskLayout Validate(in AttentionModifiers modifiers, int batch, int heads, int queryLength, int keyLength,
                                           in AttentionOptions options, in MemoryExtent output, in MemoryExtent query, in MemoryExtent key, in MemoryExtent value,
                                           int packedQueryRows = -1)
    {
        CheckPerHead(modifiers.AlibiSlopes, heads, "modifiers.AlibiSlopes");
        CheckPerHead(modifiers.Sinks, heads, "modifiers.Sinks");
        bool softmax = options.Normalization == AttentionNormalization.Softmax;
        if (!modifiers.LogSumExp.IsEmpty)
        {
            long rows = packedQueryRows >= 0 ? (long)heads * packedQueryRows : (long)batch * heads * queryLength;
            if (modifiers.LogSumExp.Length != rows)
            {
                ThrowHelper.ThrowSizeMismatch(Param, packedQueryRows >= 0 ? "modifiers.LogSumExp length (Heads·queryOffsets[Batch], packed)"
                                                                          : "modifiers.LogSumExp length (Batch·Heads·QueryLength)", rows, modifiers.LogSumExp.Length);
            }

            var lse = MemoryExtent.Of((ReadOnlySpan<float>)modifiers.LogSumExp);
            AttentionValidation.CheckNoOverlap(lse, output, Param, "output");
            AttentionValidation.CheckNoOverlap(lse, query, Param, "query");
            AttentionValidation.CheckNoOverlap(lse, key, Param, "key");
            AttentionValidation.CheckNoOverlap(lse, value, Param, "value");
        }

        bool hasBoolean = !modifiers.BooleanMask.IsEmpty, hasAdditive = !modifiers.AdditiveMask.IsEmpty;
        if (!softmax && (!modifiers.Sinks.IsEmpty || !modifiers.LogSumExp.IsEmpty || hasBoolean || hasAdditive))
        {
            string what = !modifiers.Sinks.IsEmpty ? "Sinks" : !modifiers.LogSumExp.IsEmpty ? "LogSumExp" : hasBoolean ? "BooleanMask" : "AdditiveMask";
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"modifiers.{what} needs softmax normalisation: expected options.Normalization = Softmax, actual {options.Normalization}."), Param);
        }

        if (hasBoolean && hasAdditive)
        {
            throw new ArgumentException("modifiers: expected at most one of BooleanMask and AdditiveMask, actual both.", Param);
        }

        AttentionMaskStrides strides = modifiers.MaskStrides ?? AttentionMaskStrides.Shared(keyLength);
        if (!hasBoolean && !hasAdditive)
        {
            return default;
        }

        CheckStride(strides.Batch, "Batch");
        CheckStride(strides.Head, "Head");
        CheckStride(strides.Query, "Query");
        CheckStride(strides.Key, "Key");
        int length = hasBoolean ? modifiers.BooleanMask.Length : modifiers.AdditiveMask.Length;
        if (batch > 0 && heads > 0 && queryLength > 0 && keyLength > 0)
        {
            // The last element the strides reach, in 128 bits: four products of an int and a long cannot wrap.
            Int128 last = (Int128)(batch - 1) * strides.Batch + (Int128)(heads - 1) * strides.Head
                          + (Int128)(queryLength - 1) * strides.Query + (Int128)(keyLength - 1) * strides.Key;
            if (last >= length)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"modifiers.{(hasBoolean ? "BooleanMask" : "AdditiveMask")} is too short for modifiers.MaskStrides ({strides.Batch}, {strides.Head}, {strides.Query}, {strides.Key}) over [{batch}, {heads}, {queryLength}, {keyLength}]: expected at least {last + 1} elements, actual {length}."), Param);
            }
        }

        return new DenseMaskLayout((nint)strides.Batch, (nint)strides.Head, (nint)strides.Query, (nint)strides.Key);
    }

    /// <summary>
    /// Validates a packed call with modifiers, for <see cref="Attention"/> and the reference alike: the packed buffers
    /// and offsets (<see cref="AttentionValidation.ValidatePacked"/>), then the weights when the call writes them
    /// (<see cref="AttentionValidation.ValidatePackedWeights"/>), then the modifiers, with the log-sum-exp as
    /// <c>[Heads, totalQueryRows]</c> and a dense mask over the shape's longest lengths, then the log-sum-exp against the weights.
    /// </summary>
    public static (AttentionValidation.PackedSizes Packed, DenseMaskLayout Layout) ValidatePacked(
        ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value, Span<float> output, in AttentionShape shape,
        ReadOnlySpan<int> queryOffsets, ReadOnlySpan<int> keyOffsets, in AttentionModifiers modifiers, in AttentionOptions options,
        Span<float> weights = default, bool hasWeights = false)
    {
        var packed = AttentionValidation.ValidatePacked(query, key, value, output, shape, queryOffsets, keyOffsets, options);
        if (hasWeights)
        {
            AttentionValidation.ValidatePackedWeights(query, key, value, output, weights, shape.Heads, queryOffsets, keyOffsets);
        }

        var layout = Validate(modifiers, shape.Batch, shape.Heads, shape.QueryLength, shape.KeyLength, options,
                              MemoryExtent.Of((ReadOnlySpan<float>)output), MemoryExtent.Of(query), MemoryExtent.Of(key), MemoryExtent.Of(value),
                              packedQueryRows: packed.QueryRows);
        if (hasWeights)
        {
            AttentionValidation.CheckNoOverlap(MemoryExtent.Of((ReadOnlySpan<float>)modifiers.LogSumExp), MemoryExtent.Of((ReadOnlySpan<float>)weights), "modifiers", nameof(weights));
        }

        return (packed, layout);
    }

    /// <summary>
    /// Validates a user's <see cref="IAttentionModifier{TSelf}"/> against the options: one that modifies scores needs
    /// softmax normalisation (the plain sum has no meaning for a score made −∞, and the built-in score modifiers that
    /// hide keys are softmax-only too). The parameter is <c>modifier</c>.
    /// </summary>
    public static void ValidateUser<TModifier>(in AttentionOptions options)
        where TModifier : struct, IAttentionModifier<TModifier>
    {
        if (TModifier.ModifiesScores && options.Normalization != AttentionNormalization.Softmax)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"modifier {typeof(TModifier).Name} modifies scores, which needs softmax normalisation: expected options.Normalization = Softmax, actual {options.Normalization}."), "modifier");
        }
    }

    private static void CheckPerHead(ReadOnlySpan<float> values, int heads, string what)
    {
        if (values.IsEmpty)
        {
            return;
        }

        if (values.Length != heads)
        {
            ThrowHelper.ThrowSizeMismatch(Param, what + " must be empty or have one entry per head (Heads)", heads, values.Length);
        }

        for (int h = 0; h < values.Length; h++)
        {
            if (!float.IsFinite(values[h]))
            {
                throw new ArgumentOutOfRangeException(Param, values[h],
                    string.Create(CultureInfo.InvariantCulture, $"{what}[{h}]: expected a finite value, actual {values[h]}."));
            }
        }
    }

    private static void CheckStride(long stride, string name)
    {
        if (stride < 0)
        {
            throw new ArgumentOutOfRangeException(Param, stride,
                string.Create(CultureInfo.InvariantCulture, $"modifiers.MaskStrides.{name}: expected at least 0, actual {stride}."));
        }
    }
}
