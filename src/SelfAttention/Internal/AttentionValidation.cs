using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;
using CommunityToolkit.HighPerformance;

namespace SelfAttention.Internal;

/// <summary>
/// The checks shared by <see cref="Attention"/> and <see cref="Reference.NaiveAttention"/>, so both reject the same
/// inputs with the same messages, before anything is written.
/// </summary>
internal static class AttentionValidation
{
    /// <summary>Validates the options and returns the effective scale (<c>1/√headDim</c> when none is set).</summary>
    public static float ValidateOptions(in AttentionOptions options, int headDim)
    {
        if (options.Normalization is not (AttentionNormalization.Softmax or AttentionNormalization.Sum))
        {
            ThrowHelper.ThrowBadNormalization(options.Normalization);
        }

        if (!Enum.IsDefined(options.Kernel))
        {
            ThrowHelper.ThrowBadKernel(options.Kernel);
        }

        if (options.MaxDegreeOfParallelism < -1)
        {
            ThrowHelper.ThrowBadParallelism(options.MaxDegreeOfParallelism);
        }

        if (options.CausalAlignment is not (CausalAlignment.BottomRight or CausalAlignment.TopLeft))
        {
            ThrowHelper.ThrowBadAlignment(options.CausalAlignment);
        }

        if (options.Window is AttentionWindow window && (window.Left < -1 || window.Right < -1))
        {
            ThrowHelper.ThrowBadWindow(window.Left < -1 ? "Left" : "Right", window.Left < -1 ? window.Left : window.Right);
        }

        if (options.SoftCap is float cap && (!float.IsFinite(cap) || cap <= 0f))
        {
            throw new ArgumentOutOfRangeException("options", cap,
                string.Create(CultureInfo.InvariantCulture, $"options.SoftCap: expected a finite value greater than 0 (or null for none), actual {cap}."));
        }

        if (options.Scale is float scale)
        {
            if (!float.IsFinite(scale) || scale <= 0f)
            {
                ThrowHelper.ThrowBadScale(scale);
            }

            return scale;
        }

        return 1f / MathF.Sqrt(headDim);
    }

    /// <summary>
    /// Validates one head; <paramref name="weights"/> is checked only when <paramref name="hasWeights"/>.
    /// A view with no elements is an empty head, not a mismatch: zero keys, zero query rows and a zero value dim are
    /// valid. Such a view may report 0 for its other dimension (<c>default</c>, <c>Empty</c>), so a width of 0 on a
    /// zero-height key, value or output view (and a height of 0 on a zero-width weights view) is accepted.
    /// </summary>
    /// <returns>The effective scale.</returns>
    public static float ValidateSingleHead(
        ReadOnlySpan2D<float> query, ReadOnlySpan2D<float> key, ReadOnlySpan2D<float> value,
        Span2D<float> output, Span2D<float> weights, bool hasWeights, in AttentionOptions options)
    {
        if (query.Width < 1 && query.Height > 0)
        {
            ThrowHelper.ThrowSizeMismatch(nameof(query), "query width (head dim) must be at least 1", 1, query.Width);
        }

        // The head dim and value dim come from the first view that states them.
        int headDim = query.Width != 0 ? query.Width : key.Width;
        int valueDim = value.Width != 0 ? value.Width : output.Width;
        if (!Agrees(key.Width, headDim, key.Height))
        {
            ThrowHelper.ThrowSizeMismatch(nameof(key), "key width must equal query width (head dim)", headDim, key.Width);
        }

        if (!Agrees(value.Width, valueDim, value.Height))
        {
            ThrowHelper.ThrowSizeMismatch(nameof(value), "value width must equal output width (value dim)", valueDim, value.Width);
        }

        if (value.Height != key.Height)
        {
            ThrowHelper.ThrowSizeMismatch(nameof(value), "value height must equal key height (key length)", key.Height, value.Height);
        }

        if (output.Height != query.Height)
        {
            ThrowHelper.ThrowSizeMismatch(nameof(output), "output height must equal query height (query length)", query.Height, output.Height);
        }

        if (!Agrees(output.Width, valueDim, output.Height))
        {
            ThrowHelper.ThrowSizeMismatch(nameof(output), "output width must equal value width (value dim)", valueDim, output.Width);
        }

        if (hasWeights)
        {
            // [queryLength, keyLength]; when that has no elements, a view reporting 0 for the other dimension is it too.
            bool noWeights = query.Height == 0 || key.Height == 0;
            if (weights.Height != query.Height && !(noWeights && weights.Height == 0))
            {
                ThrowHelper.ThrowSizeMismatch(nameof(weights), "weights height must equal query height (query length)", query.Height, weights.Height);
            }

            if (weights.Width != key.Height && !(noWeights && weights.Width == 0))
            {
                ThrowHelper.ThrowSizeMismatch(nameof(weights), "weights width must equal key height (key length)", key.Height, weights.Width);
            }
        }

        float scale = ValidateOptions(options, Math.Max(1, headDim));

        var outputExtent = MemoryExtent.Of(output);
        CheckNoOverlap(outputExtent, MemoryExtent.Of(query), nameof(output), nameof(query));
        CheckNoOverlap(outputExtent, MemoryExtent.Of(key), nameof(output), nameof(key));
        CheckNoOverlap(outputExtent, MemoryExtent.Of(value), nameof(output), nameof(value));
        if (hasWeights)
        {
            var weightsExtent = MemoryExtent.Of(weights);
            CheckNoOverlap(weightsExtent, outputExtent, nameof(weights), nameof(output));
            CheckNoOverlap(weightsExtent, MemoryExtent.Of(query), nameof(weights), nameof(query));
            CheckNoOverlap(weightsExtent, MemoryExtent.Of(key), nameof(weights), nameof(key));
            CheckNoOverlap(weightsExtent, MemoryExtent.Of(value), nameof(weights), nameof(value));
        }

        return scale;
    }

    /// <summary>
    /// A view's dimension agrees with the expected one when it is equal, or when the view has no elements (its other
    /// dimension is 0) and reports 0 here.
    /// </summary>
    private static bool Agrees(int actual, int expected, int otherDimension) =>
        actual == expected || (actual == 0 && otherDimension == 0);

    /// <summary>The sizes of a validated multi-head call, in elements.</summary>
    internal readonly record struct MultiHeadSizes(int KvHeads, int ValueDim, float Scale);

    /// <summary>Validates a multi-head call over flat BSNH buffers.</summary>
    public static MultiHeadSizes ValidateMultiHead(
        ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value, Span<float> output,
        in AttentionShape shape, in AttentionOptions options)
    {
        if (shape.Batch < 0) ThrowHelper.ThrowNegative("shape", "shape.Batch", shape.Batch);
        if (shape.QueryLength < 0) ThrowHelper.ThrowNegative("shape", "shape.QueryLength", shape.QueryLength);
        if (shape.KeyLength < 0) ThrowHelper.ThrowNegative("shape", "shape.KeyLength", shape.KeyLength);
        if (shape.Heads < 1) ThrowHelper.ThrowNotPositive("shape", "shape.Heads", shape.Heads);
        if (shape.HeadDim < 1) ThrowHelper.ThrowNotPositive("shape", "shape.HeadDim", shape.HeadDim);
        if (shape.KvHeads < 1) ThrowHelper.ThrowNotPositive("shape", "shape.KvHeads", shape.KvHeads);
        if (shape.ValueDim < 1) ThrowHelper.ThrowNotPositive("shape", "shape.ValueDim", shape.ValueDim);
        if (shape.Heads % shape.KvHeads != 0) ThrowHelper.ThrowHeadsNotMultiple(shape.Heads, shape.KvHeads);

        float scale = ValidateOptions(options, shape.HeadDim);

        // Row widths must fit in an int even when a zero batch or length makes the whole buffer empty.
        Product("shape", "Heads·HeadDim", int.MaxValue, shape.Heads, shape.HeadDim);
        Product("shape", "KvHeads·ValueDim", int.MaxValue, shape.KvHeads, shape.ValueDim);
        Product("shape", "Heads·ValueDim", int.MaxValue, shape.Heads, shape.ValueDim);

        long queryLength = Product("shape", "query (Batch·QueryLength·Heads·HeadDim)", int.MaxValue, shape.Batch, shape.QueryLength, shape.Heads, shape.HeadDim);
        long keyLength = Product("shape", "key (Batch·KeyLength·KvHeads·HeadDim)", int.MaxValue, shape.Batch, shape.KeyLength, shape.KvHeads, shape.HeadDim);
        long valueLength = Product("shape", "value (Batch·KeyLength·KvHeads·ValueDim)", int.MaxValue, shape.Batch, shape.KeyLength, shape.KvHeads, shape.ValueDim);
        long outputLength = Product("shape", "output (Batch·QueryLength·Heads·ValueDim)", int.MaxValue, shape.Batch, shape.QueryLength, shape.Heads, shape.ValueDim);

        if (query.Length != queryLength) ThrowHelper.ThrowSizeMismatch(nameof(query), "query length (Batch·QueryLength·Heads·HeadDim)", queryLength, query.Length);
        if (key.Length != keyLength) ThrowHelper.ThrowSizeMismatch(nameof(key), "key length (Batch·KeyLength·KvHeads·HeadDim)", keyLength, key.Length);
        if (value.Length != valueLength) ThrowHelper.ThrowSizeMismatch(nameof(value), "value length (Batch·KeyLength·KvHeads·ValueDim)", valueLength, value.Length);
        if (output.Length != outputLength) ThrowHelper.ThrowSizeMismatch(nameof(output), "output length (Batch·QueryLength·Heads·ValueDim)", outputLength, output.Length);

        CheckNoOverlap<float, float>(output, query, nameof(output), nameof(query));
        CheckNoOverlap<float, float>(output, key, nameof(output), nameof(key));
        CheckNoOverlap<float, float>(output, value, nameof(output), nameof(value));

        return new MultiHeadSizes(shape.KvHeads, shape.ValueDim, scale);
    }

    /// <summary>
    /// Validates the weights output of a multi-head call whose other arguments passed <see cref="ValidateMultiHead"/>:
    /// exactly <c>Batch·Heads·QueryLength·KeyLength</c> elements, overlapping no input and not the output.
    /// </summary>
    public static void ValidateMultiHeadWeights(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value, Span<float> output,
                                                Span<float> weights, in AttentionShape shape)
    {
        long weightsLength = Product(nameof(weights), "weights (Batch·Heads·QueryLength·KeyLength)", int.MaxValue, shape.Batch, shape.Heads, shape.QueryLength, shape.KeyLength);
        if (weights.Length != weightsLength) ThrowHelper.ThrowSizeMismatch(nameof(weights), "weights length (Batch·Heads·QueryLength·KeyLength)", weightsLength, weights.Length);
        CheckWeightsApart(query, key, value, output, weights);
    }

    /// <summary>
    /// Validates the weights of a packed call whose offsets are valid: sequence b's <c>[Heads, q_b, k_b]</c> blocks
    /// one after another, so <c>Heads·Σ q_b·k_b</c> floats, not overlapping any other buffer.
    /// </summary>
    public static void ValidatePackedWeights(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value, Span<float> output,
                                             Span<float> weights, int heads, ReadOnlySpan<int> queryOffsets, ReadOnlySpan<int> keyOffsets)
    {
        // Each q_b·k_b is below 2⁶², and Σ q_b·k_b ≤ (Σ q_b)·max k_b < 2⁶², so the sum cannot overflow; times Heads can.
        long pairs = 0;
        for (int b = 0; b + 1 < queryOffsets.Length; b++)
        {
            pairs += (long)(queryOffsets[b + 1] - queryOffsets[b]) * (keyOffsets[b + 1] - keyOffsets[b]);
        }

        Int128 weightsLength = (Int128)pairs * heads;
        if (weightsLength > int.MaxValue)
        {
            ThrowTooLarge(nameof(weights), "weights (Heads·Σ queryLength·keyLength over the sequences)", int.MaxValue, weightsLength);
        }

        if (weights.Length != (long)weightsLength)
        {
            ThrowHelper.ThrowSizeMismatch(nameof(weights), "weights length (Heads·Σ queryLength·keyLength over the sequences)", (long)weightsLength, weights.Length);
        }

        CheckWeightsApart(query, key, value, output, weights);
    }

    /// <summary>Throws when the weights overlap an input or the output: the check every multi-head weights overload shares.</summary>
    private static void CheckWeightsApart(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value, Span<float> output, Span<float> weights)
    {
        CheckNoOverlap<float, float>(weights, query, nameof(weights), nameof(query));
        CheckNoOverlap<float, float>(weights, key, nameof(weights), nameof(key));
        CheckNoOverlap<float, float>(weights, value, nameof(weights), nameof(value));
        CheckNoOverlap<float, float>(weights, output, nameof(weights), nameof(output));
    }

    /// <summary>The totals of a validated packed call: rows of the query (output) and key (value) buffers.</summary>
    internal readonly record struct PackedSizes(MultiHeadSizes Sizes, int QueryRows, int KeyRows);

    /// <summary>
    /// Validates a packed call (FlashAttention's <c>cu_seqlens</c> form): the shape's head sizes and the options as a
    /// multi-head call's; <paramref name="queryOffsets"/> and <paramref name="keyOffsets"/> with <c>shape.Batch + 1</c>
    /// entries each, starting at 0, never decreasing, no sequence longer than <c>shape.QueryLength</c> (keys:
    /// <c>shape.KeyLength</c>); the buffers exactly <c>offsets[Batch]</c> rows long; no output overlapping an input.
    /// </summary>
    public static PackedSizes ValidatePacked(
        ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value, Span<float> output,
        in AttentionShape shape, ReadOnlySpan<int> queryOffsets, ReadOnlySpan<int> keyOffsets, in AttentionOptions options)
    {
        // The shape's sizes and the options, on empty buffers (Batch 0): the same checks and messages as ComputeMultiHead.
        var sizes = ValidateMultiHead(default, default, default, default, shape with { Batch = 0 }, options);
        if (shape.Batch < 0) ThrowHelper.ThrowNegative("shape", "shape.Batch", shape.Batch);
        int queryRows = ValidateOffsets(queryOffsets, nameof(queryOffsets), shape.Batch, shape.QueryLength, "shape.QueryLength");
        int keyRows = ValidateOffsets(keyOffsets, nameof(keyOffsets), shape.Batch, shape.KeyLength, "shape.KeyLength");

        long queryLength = Product("shape", "query (queryOffsets[Batch]·Heads·HeadDim)", int.MaxValue, queryRows, shape.Heads, shape.HeadDim);
        long keyLength = Product("shape", "key (keyOffsets[Batch]·KvHeads·HeadDim)", int.MaxValue, keyRows, sizes.KvHeads, shape.HeadDim);
        long valueLength = Product("shape", "value (keyOffsets[Batch]·KvHeads·ValueDim)", int.MaxValue, keyRows, sizes.KvHeads, sizes.ValueDim);
        long outputLength = Product("shape", "output (queryOffsets[Batch]·Heads·ValueDim)", int.MaxValue, queryRows, shape.Heads, sizes.ValueDim);
        if (query.Length != queryLength) ThrowHelper.ThrowSizeMismatch(nameof(query), "query length (queryOffsets[Batch]·Heads·HeadDim)", queryLength, query.Length);
        if (key.Length != keyLength) ThrowHelper.ThrowSizeMismatch(nameof(key), "key length (keyOffsets[Batch]·KvHeads·HeadDim)", keyLength, key.Length);
        if (value.Length != valueLength) ThrowHelper.ThrowSizeMismatch(nameof(value), "value length (keyOffsets[Batch]·KvHeads·ValueDim)", valueLength, value.Length);
        if (output.Length != outputLength) ThrowHelper.ThrowSizeMismatch(nameof(output), "output length (queryOffsets[Batch]·Heads·ValueDim)", outputLength, output.Length);

        CheckNoOverlap<float, float>(output, query, nameof(output), nameof(query));
        CheckNoOverlap<float, float>(output, key, nameof(output), nameof(key));
        CheckNoOverlap<float, float>(output, value, nameof(output), nameof(value));
        return new PackedSizes(sizes, queryRows, keyRows);
    }

    /// <summary>Checks one offsets span (<c>[batch + 1]</c>, from 0, steps in <c>[0, limit]</c>) and returns its last entry, the total rows.</summary>
    private static int ValidateOffsets(ReadOnlySpan<int> offsets, string paramName, int batch, int limit, string limitName)
    {
        if (offsets.Length != (long)batch + 1)
        {
            ThrowHelper.ThrowSizeMismatch(paramName, $"{paramName} must have shape.Batch + 1 entries (cumulative sequence lengths from 0)", (long)batch + 1, offsets.Length);
        }

        if (offsets[0] != 0)
        {
            ThrowHelper.ThrowOffsetOutOfRange(paramName, 0, "0 (the first sequence starts at row 0)", offsets[0]);
        }

        for (int b = 0; b < batch; b++)
        {
            long length = (long)offsets[b + 1] - offsets[b];
            if (length < 0 || length > limit)
            {
                ThrowHelper.ThrowOffsetOutOfRange(paramName, b + 1,
                    string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{offsets[b]} to {offsets[b] + (long)limit} (sequence {b} at most {limit} rows: {limitName})"), offsets[b + 1]);
            }
        }

        return offsets[batch];
    }

    /// <summary>
    /// Validates per-sequence lengths of a BSNH call of shape <paramref name="shape"/> (already validated):
    /// <paramref name="keyLengths"/> has one entry per sequence in <c>[0, shape.KeyLength]</c>; <paramref name="queryLengths"/>
    /// is empty (every query row is real) or has one entry per sequence in <c>[0, shape.QueryLength]</c>.
    /// </summary>
    public static void ValidateSequenceLengths(ReadOnlySpan<int> keyLengths, ReadOnlySpan<int> queryLengths, in AttentionShape shape)
    {
        if (keyLengths.Length != shape.Batch)
        {
            ThrowHelper.ThrowSizeMismatch(nameof(keyLengths), "keyLengths must have one entry per sequence (shape.Batch)", shape.Batch, keyLengths.Length);
        }

        if (!queryLengths.IsEmpty && queryLengths.Length != shape.Batch)
        {
            ThrowHelper.ThrowSizeMismatch(nameof(queryLengths), "queryLengths must be empty or have one entry per sequence (shape.Batch)", shape.Batch, queryLengths.Length);
        }

        for (int b = 0; b < keyLengths.Length; b++)
        {
            if ((uint)keyLengths[b] > (uint)shape.KeyLength)
            {
                ThrowHelper.ThrowLengthOutOfRange(nameof(keyLengths), b, shape.KeyLength, "shape.KeyLength", keyLengths[b]);
            }
        }

        for (int b = 0; b < queryLengths.Length; b++)
        {
            if ((uint)queryLengths[b] > (uint)shape.QueryLength)
            {
                ThrowHelper.ThrowLengthOutOfRange(nameof(queryLengths), b, shape.QueryLength, "shape.QueryLength", queryLengths[b]);
            }
        }
    }

    /// <summary>
    /// The product of non-negative factors, or an <see cref="ArgumentOutOfRangeException"/> naming
    /// <paramref name="paramName"/> when it exceeds <paramref name="limit"/>; the message gives the limit and the whole
    /// product. Formed in 128 bits: four <see cref="int"/> factors cannot wrap.
    /// </summary>
    public static long Product(string paramName, string what, long limit, params ReadOnlySpan<int> factors)
    {
        Int128 product = 1;
        foreach (int factor in factors)
        {
            Debug.Assert(factor >= 0, "factors are validated as non-negative first");
            product *= factor;
        }

        if (product > limit)
        {
            ThrowTooLarge(paramName, what, limit, product);
        }

        return (long)product;
    }

    /// <summary>
    /// Throws when the memory of <paramref name="written"/> overlaps that of <paramref name="other"/>; empty spans overlap
    /// nothing. Addresses are compared as 64-bit byte offsets, so spans of any length work (a byte span over more than
    /// 2 GiB could not be formed).
    /// </summary>
    public static void CheckNoOverlap<T, U>(ReadOnlySpan<T> written, ReadOnlySpan<U> other, string paramName, string otherName)
        => CheckNoOverlap(MemoryExtent.Of(written), MemoryExtent.Of(other), paramName, otherName);

    /// <summary>Throws when two extents share a byte; an empty extent shares none.</summary>
    public static void CheckNoOverlap(in MemoryExtent written, in MemoryExtent other, string paramName, string otherName)
    {
        if (written.Overlaps(other))
        {
            ThrowHelper.ThrowOverlap(paramName, otherName);
        }
    }

    [DoesNotReturn]
    private static void ThrowTooLarge(string paramName, string what, long limit, Int128 product) =>
        throw new ArgumentOutOfRangeException(paramName,
            string.Create(CultureInfo.InvariantCulture, $"{what} is too large: expected at most {limit} elements, actual {product}."));
}
