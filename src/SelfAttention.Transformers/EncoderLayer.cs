using System.Buffers;
using System.Globalization;
using System.Numerics.Tensors;
using SelfAttention.Internal;
using SelfAttention.Transformers.Kernels;

namespace SelfAttention.Transformers;

/// <summary>
/// One transformer encoder layer over a batch of sequences, equal-length <c>[batch·sequenceLength, d]</c> or packed
/// <c>[totalTokens, d]</c> with cumulative offsets, row-major:
/// multi-head self-attention through the library's kernels (scale 1/√(d/heads)), the output projection, the
/// two-layer feed-forward with its activation fused into the first product, two LayerNorms with the residuals
/// folded in, post-LN (BERT) or pre-LN. Every product is a <see cref="Linear"/> packed at construction. Scratch is
/// rented from <see cref="ArrayPool{T}.Shared"/> per call and returned, so a steady-state call allocates nothing;
/// the layer is immutable and safe to call from several threads at once.
/// </summary>
public sealed class EncoderLayer
{
    private readonly Linear _query, _key, _value, _output, _up, _down;
    private readonly float[] _norm1Gamma, _norm1Beta, _norm2Gamma, _norm2Beta;

    /// <summary>Checks the weights' shapes against <paramref name="options"/>, then copies and packs them.</summary>
    /// <param name="weights">The matrices and vectors; d is <c>AttentionNormGamma.Length</c>, f is <c>FeedForwardUpBias.Length</c>.</param>
    /// <param name="options">Heads (dividing d), epsilon, placement, activation, causality.</param>
    /// <exception cref="ArgumentException">A weight has the wrong length, heads does not divide d, or an option is out of range.</exception>
    public EncoderLayer(EncoderLayerWeights weights, EncoderLayerOptions options)
    {
        if (weights is null) throw new ArgumentNullException(nameof(weights), "weights: expected the layer's weights, actual null.");
        if (options is null) throw new ArgumentNullException(nameof(options), "options: expected the layer's options (at least Heads), actual null.");
        int d = weights.AttentionNormGamma?.Length ?? 0, f = weights.FeedForwardUpBias?.Length ?? 0;
        if (d < 1) ThrowHelper.ThrowNotPositive(nameof(weights), "weights.AttentionNormGamma.Length (the model width d)", d);
        if (f < 1) ThrowHelper.ThrowNotPositive(nameof(weights), "weights.FeedForwardUpBias.Length (the feed-forward width f)", f);
        if (options.Heads < 1 || d % options.Heads != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Heads,
                string.Create(CultureInfo.InvariantCulture, $"options.Heads: expected a divisor of the model width {d}, actual {options.Heads}."));
        }

        if (!float.IsFinite(options.LayerNormEpsilon) || options.LayerNormEpsilon < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.LayerNormEpsilon,
                string.Create(CultureInfo.InvariantCulture, $"options.LayerNormEpsilon: expected a finite number ≥ 0, actual {options.LayerNormEpsilon}."));
        }

        if (!Enum.IsDefined(options.Placement))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Placement, $"options.Placement: expected PostLayerNorm or PreLayerNorm, actual {(int)options.Placement}.");
        }

        ModelDim = d;
        FeedForwardDim = f;
        Options = options;
        _query = Project(weights.QueryWeights, weights.QueryBias, d, d, nameof(weights.QueryWeights));
        _key = Project(weights.KeyWeights, weights.KeyBias, d, d, nameof(weights.KeyWeights));
        _value = Project(weights.ValueWeights, weights.ValueBias, d, d, nameof(weights.ValueWeights));
        _output = Project(weights.OutputWeights, weights.OutputBias, d, d, nameof(weights.OutputWeights));
        _up = Project(weights.FeedForwardUpWeights, weights.FeedForwardUpBias, d, f, nameof(weights.FeedForwardUpWeights), options.FeedForwardActivation);
        _down = Project(weights.FeedForwardDownWeights, weights.FeedForwardDownBias, f, d, nameof(weights.FeedForwardDownWeights));
        _norm1Gamma = Vector(weights.AttentionNormGamma, d, nameof(weights.AttentionNormGamma));
        _norm1Beta = Vector(weights.AttentionNormBeta, d, nameof(weights.AttentionNormBeta));
        _norm2Gamma = Vector(weights.FeedForwardNormGamma, d, nameof(weights.FeedForwardNormGamma));
        _norm2Beta = Vector(weights.FeedForwardNormBeta, d, nameof(weights.FeedForwardNormBeta));
    }

    /// <summary>The model width d.</summary>
    public int ModelDim { get; }

    /// <summary>The feed-forward width f.</summary>
    public int FeedForwardDim { get; }

    /// <summary>The options the layer was built with.</summary>
    public EncoderLayerOptions Options { get; }

    /// <summary>Runs the layer on <paramref name="batch"/> sequences of <paramref name="sequenceLength"/> tokens each.</summary>
    /// <param name="input">The hidden states, <c>[batch·sequenceLength, d]</c>.</param>
    /// <param name="output">The layer's output, same shape; may be <paramref name="input"/> itself, otherwise disjoint from it.</param>
    /// <param name="batch">Sequences, ≥ 0.</param>
    /// <param name="sequenceLength">Tokens per sequence, ≥ 0.</param>
    /// <param name="maxDegreeOfParallelism">0 or 1: the calling thread only; n: up to n threads; −1: one per processor.</param>
    /// <exception cref="ArgumentException">A size is negative, a length does not match, the spans overlap partly, or the degree is below −1.</exception>
    public void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, int sequenceLength, int maxDegreeOfParallelism = 1)
    {
        if (batch < 0) ThrowHelper.ThrowNegative(nameof(batch), nameof(batch), batch);
        if (sequenceLength < 0) ThrowHelper.ThrowNegative(nameof(sequenceLength), nameof(sequenceLength), sequenceLength);
        int rows = CheckRows(input, output, batch, sequenceLength, maxDegreeOfParallelism);
        Run(input, output, rows, new Sequences(batch, sequenceLength, []), maxDegreeOfParallelism);
    }

    /// <summary>
    /// Runs the layer on packed sequences of different lengths, concatenated without padding (FlashAttention's
    /// <c>cu_seqlens</c> form): sequence b is rows <c>[sequenceOffsets[b], sequenceOffsets[b + 1])</c> and attends only
    /// to its own rows. The dense products run over the real tokens only, so a batch costs what its tokens cost.
    /// </summary>
    /// <param name="input">The hidden states, <c>[totalTokens, d]</c>.</param>
    /// <param name="output">The layer's output, same shape; may be <paramref name="input"/> itself, otherwise disjoint from it.</param>
    /// <param name="sequenceOffsets">
    /// <c>[batch + 1]</c> cumulative token counts: starts at 0, never decreases, ends at <c>totalTokens</c>
    /// (a sequence may be empty).
    /// </param>
    /// <param name="maxDegreeOfParallelism">0 or 1: the calling thread only; n: up to n threads; −1: one per processor.</param>
    /// <exception cref="ArgumentException">
    /// <paramref name="input"/> is not a whole number of rows, the lengths do not match, the offsets are not as above,
    /// the spans overlap partly, or the degree is below −1.
    /// </exception>
    public void Forward(ReadOnlySpan<float> input, Span<float> output, ReadOnlySpan<int> sequenceOffsets, int maxDegreeOfParallelism = 1)
    {
        if (input.Length % ModelDim != 0)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"input.Length: expected a multiple of the model width {ModelDim} (totalTokens · d), actual {input.Length}."), nameof(input));
        }

        int rows = input.Length / ModelDim;
        TransformerValidation.CheckSequenceOffsets(sequenceOffsets, rows, nameof(sequenceOffsets));
        CheckRows(input, output, 1, rows, maxDegreeOfParallelism);
        Run(input, output, rows, new Sequences(sequenceOffsets.Length - 1, 0, sequenceOffsets), maxDegreeOfParallelism);
    }

    /// <summary>
    /// The layer's attention weights for one sequence: per head, the softmax of <c>q·kᵀ/√(d/heads)</c> that
    /// <see cref="Forward(ReadOnlySpan{float}, Span{float}, int, int, int)"/> applies (for a heatmap of what each head
    /// attends to). In pre-LN layers the queries and keys are those of the normalised input, as in the forward pass.
    /// </summary>
    /// <param name="input">The hidden states of one sequence, <c>[sequenceLength, d]</c>: what this layer receives.</param>
    /// <param name="weights">Row i of head h is query token i's weights over the keys: <c>[heads, sequenceLength, sequenceLength]</c>.</param>
    /// <exception cref="ArgumentException"><paramref name="input"/> is not a whole number of rows, or <paramref name="weights"/> has the wrong length.</exception>
    public void AttentionWeights(ReadOnlySpan<float> input, Span<float> weights)
    {
        int d = ModelDim, heads = Options.Heads, dh = d / heads;
        if (input.Length % d != 0)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"input.Length: expected a multiple of the model width {d} (sequenceLength · d), actual {input.Length}."), nameof(input));
        }

        int n = input.Length / d;
        long expected = AttentionValidation.Product(nameof(weights), "heads · sequenceLength²", Array.MaxLength, heads, n, n);
        if (weights.Length != expected) ThrowHelper.ThrowSizeMismatch(nameof(weights), "weights.Length (heads · sequenceLength²)", expected, weights.Length);
        if (n == 0)
        {
            return;
        }

        // The weights do not depend on the values, so the value projection is skipped: the keys stand in as values
        // and the attention output goes to scratch that is thrown away.
        int size = n * d;
        float[] q = ArrayPool<float>.Shared.Rent(size), k = ArrayPool<float>.Shared.Rent(size);
        float[] o = ArrayPool<float>.Shared.Rent(size), normed = ArrayPool<float>.Shared.Rent(size);
        try
        {
            ReadOnlySpan<float> x = input;
            if (Options.Placement == NormPlacement.PreLayerNorm)
            {
                Norms.LayerNorm(input, [], _norm1Gamma, _norm1Beta, normed.AsSpan(0, size), Options.LayerNormEpsilon);
                x = normed.AsSpan(0, size);
            }

            _query.Forward(x, q.AsSpan(0, size));
            _key.Forward(x, k.AsSpan(0, size));
            Attention.ComputeMultiHead(q.AsSpan(0, size), k.AsSpan(0, size), k.AsSpan(0, size), o.AsSpan(0, size), weights,
                                       new AttentionShape(1, n, n, heads, dh), new AttentionOptions { IsCausal = Options.IsCausal });
        }
        finally
        {
            ArrayPool<float>.Shared.Return(q);
            ArrayPool<float>.Shared.Return(k);
            ArrayPool<float>.Shared.Return(o);
            ArrayPool<float>.Shared.Return(normed);
        }
    }

    // Which rows form which sequence: equal lengths (Offsets empty) or packed offsets.
    private readonly ref struct Sequences(int batch, int length, ReadOnlySpan<int> offsets)
    {
        public readonly int Batch = batch, Length = length;
        public readonly ReadOnlySpan<int> Offsets = offsets;
    }

    // The checks both Forward overloads share; returns the row count.
    private int CheckRows(ReadOnlySpan<float> input, Span<float> output, int batch, int sequenceLength, int maxDegreeOfParallelism)
    {
        long elements = AttentionValidation.Product(nameof(input), "batch · sequenceLength · d", Array.MaxLength, batch, sequenceLength, ModelDim);
        AttentionValidation.Product(nameof(input), "batch · sequenceLength · f", Array.MaxLength, batch, sequenceLength, FeedForwardDim);
        if (input.Length != elements) ThrowHelper.ThrowSizeMismatch(nameof(input), "input.Length (batch · sequenceLength · d)", elements, input.Length);
        if (output.Length != elements) ThrowHelper.ThrowSizeMismatch(nameof(output), "output.Length (batch · sequenceLength · d)", elements, output.Length);
        TransformerValidation.CheckDegree(maxDegreeOfParallelism);
        TransformerValidation.CheckInPlaceOrDisjoint(input, output, nameof(input), nameof(output));
        return batch * sequenceLength;
    }

    private void Run(ReadOnlySpan<float> input, Span<float> output, int rows, Sequences sequences, int maxDegreeOfParallelism)
    {
        if (rows == 0)
        {
            return;
        }

        int d = ModelDim, n = rows * d;
        float[] q = ArrayPool<float>.Shared.Rent(n), k = ArrayPool<float>.Shared.Rent(n), v = ArrayPool<float>.Shared.Rent(n);
        float[] context = ArrayPool<float>.Shared.Rent(n), hidden = ArrayPool<float>.Shared.Rent(n);
        float[] wide = ArrayPool<float>.Shared.Rent(rows * FeedForwardDim);
        try
        {
            Span<float> qs = q.AsSpan(0, n), ks = k.AsSpan(0, n), vs = v.AsSpan(0, n), cs = context.AsSpan(0, n), hs = hidden.AsSpan(0, n);
            Span<float> ws = wide.AsSpan(0, rows * FeedForwardDim);
            float epsilon = Options.LayerNormEpsilon;
            if (Options.Placement == NormPlacement.PostLayerNorm)
            {
                // h = LN₁(x + Attention(x)·W_o + b_o); y = LN₂(h + FFN(h)).
                Attend(input, qs, ks, vs, cs, sequences, maxDegreeOfParallelism);
                _output.Forward(cs, qs, maxDegreeOfParallelism);
                NormKernels.LayerNorm(qs, input, _norm1Gamma, _norm1Beta, hs, epsilon, maxDegreeOfParallelism);
                _up.Forward(hs, ws, maxDegreeOfParallelism);
                _down.Forward(ws, qs, maxDegreeOfParallelism);
                NormKernels.LayerNorm(qs, hs, _norm2Gamma, _norm2Beta, output, epsilon, maxDegreeOfParallelism);
            }
            else
            {
                // h = x + Attention(LN₁(x))·W_o + b_o; y = h + FFN(LN₂(h)).
                NormKernels.LayerNorm(input, [], _norm1Gamma, _norm1Beta, hs, epsilon, maxDegreeOfParallelism);
                Attend(hs, qs, ks, vs, cs, sequences, maxDegreeOfParallelism);
                _output.Forward(cs, qs, maxDegreeOfParallelism);
                TensorPrimitives.Add(qs, input, hs);
                NormKernels.LayerNorm(hs, [], _norm2Gamma, _norm2Beta, qs, epsilon, maxDegreeOfParallelism);
                _up.Forward(qs, ws, maxDegreeOfParallelism);
                _down.Forward(ws, ks, maxDegreeOfParallelism);
                TensorPrimitives.Add(hs, ks, output);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(q);
            ArrayPool<float>.Shared.Return(k);
            ArrayPool<float>.Shared.Return(v);
            ArrayPool<float>.Shared.Return(context);
            ArrayPool<float>.Shared.Return(hidden);
            ArrayPool<float>.Shared.Return(wide);
        }
    }

    // Q, K, V of x, then the attention of every (sequence, head) into context: one call for equal lengths or for
    // packed ones.
    private void Attend(ReadOnlySpan<float> x, Span<float> q, Span<float> k, Span<float> v, Span<float> context, Sequences sequences, int degree)
    {
        _query.Forward(x, q, degree);
        _key.Forward(x, k, degree);
        _value.Forward(x, v, degree);
        int d = ModelDim, heads = Options.Heads;
        var options = new AttentionOptions { IsCausal = Options.IsCausal, MaxDegreeOfParallelism = degree };
        if (sequences.Offsets.IsEmpty)
        {
            var shape = new AttentionShape(sequences.Batch, sequences.Length, sequences.Length, heads, d / heads);
            Attention.ComputeMultiHead(q, k, v, context, shape, options);
            return;
        }

        // Packed: the library's cu_seqlens entry point, each sequence attending to its own rows at its own length.
        int longest = 0;
        for (int b = 0; b < sequences.Batch; b++)
        {
            longest = Math.Max(longest, sequences.Offsets[b + 1] - sequences.Offsets[b]);
        }

        var packed = new AttentionShape(sequences.Batch, longest, longest, heads, d / heads);
        Attention.ComputeMultiHeadPacked(q, k, v, context, packed, sequences.Offsets, sequences.Offsets, options);
    }

    private static Linear Project(float[]? weights, float[]? bias, int inFeatures, int outFeatures, string name, LinearActivation activation = LinearActivation.None)
    {
        if (weights is null || weights.LongLength != (long)inFeatures * outFeatures)
        {
            ThrowHelper.ThrowSizeMismatch("weights", $"weights.{name}.Length", (long)inFeatures * outFeatures, weights?.LongLength ?? 0);
        }

        string biasName = name.Replace("Weights", "Bias", StringComparison.Ordinal);
        if (bias is null || bias.Length != outFeatures)
        {
            ThrowHelper.ThrowSizeMismatch("weights", $"weights.{biasName}.Length", outFeatures, bias?.Length ?? 0);
        }

        return new Linear(weights, bias, inFeatures, outFeatures, LinearWeightLayout.InputMajor, activation);
    }

    private static float[] Vector(float[]? values, int length, string name)
    {
        if (values is null || values.Length != length)
        {
            ThrowHelper.ThrowSizeMismatch("weights", $"weights.{name}.Length", length, values?.Length ?? 0);
        }

        return (float[])values.Clone();
    }
}
