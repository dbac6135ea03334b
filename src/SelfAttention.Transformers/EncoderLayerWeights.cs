namespace SelfAttention.Transformers;

/// <summary>
/// The weights of one transformer encoder layer, every matrix <c>[in, out]</c> row-major (ONNX <c>MatMul</c>'s layout;
/// transpose PyTorch's <c>nn.Linear.weight</c>), model width d and feed-forward width f. The layer copies and packs
/// them at construction; this object can be dropped afterwards.
/// </summary>
public sealed record EncoderLayerWeights
{
    /// <summary>W_q, <c>[d, d]</c>.</summary>
    public required float[] QueryWeights { get; init; }

    /// <summary>b_q, <c>[d]</c>.</summary>
    public required float[] QueryBias { get; init; }

    /// <summary>W_k, <c>[d, d]</c>.</summary>
    public required float[] KeyWeights { get; init; }

    /// <summary>b_k, <c>[d]</c>.</summary>
    public required float[] KeyBias { get; init; }

    /// <summary>W_v, <c>[d, d]</c>.</summary>
    public required float[] ValueWeights { get; init; }

    /// <summary>b_v, <c>[d]</c>.</summary>
    public required float[] ValueBias { get; init; }

    /// <summary>The attention output projection W_o, <c>[d, d]</c>.</summary>
    public required float[] OutputWeights { get; init; }

    /// <summary>b_o, <c>[d]</c>.</summary>
    public required float[] OutputBias { get; init; }

    /// <summary>The first LayerNorm's scale, <c>[d]</c> (after attention in post-LN, before it in pre-LN).</summary>
    public required float[] AttentionNormGamma { get; init; }

    /// <summary>The first LayerNorm's shift, <c>[d]</c>.</summary>
    public required float[] AttentionNormBeta { get; init; }

    /// <summary>The feed-forward's first matrix, <c>[d, f]</c>.</summary>
    public required float[] FeedForwardUpWeights { get; init; }

    /// <summary>Its bias, <c>[f]</c>.</summary>
    public required float[] FeedForwardUpBias { get; init; }

    /// <summary>The feed-forward's second matrix, <c>[f, d]</c>.</summary>
    public required float[] FeedForwardDownWeights { get; init; }

    /// <summary>Its bias, <c>[d]</c>.</summary>
    public required float[] FeedForwardDownBias { get; init; }

    /// <summary>The second LayerNorm's scale, <c>[d]</c>.</summary>
    public required float[] FeedForwardNormGamma { get; init; }

    /// <summary>The second LayerNorm's shift, <c>[d]</c>.</summary>
    public required float[] FeedForwardNormBeta { get; init; }

    /// <summary>Random weights for tests and benchmarks: matrices uniform in ±1/√in, biases and shifts in ±0.1, scales in [0.8, 1.2].</summary>
    /// <param name="modelDim">d.</param>
    /// <param name="feedForwardDim">f.</param>
    /// <param name="seed">The seed (<see cref="DeterministicRandom"/>).</param>
    /// <returns>The weights.</returns>
    /// <exception cref="ArgumentException">A width is below 1.</exception>
    public static EncoderLayerWeights CreateRandom(int modelDim, int feedForwardDim, ulong seed)
    {
        if (modelDim < 1) SelfAttention.Internal.ThrowHelper.ThrowNotPositive(nameof(modelDim), nameof(modelDim), modelDim);
        if (feedForwardDim < 1) SelfAttention.Internal.ThrowHelper.ThrowNotPositive(nameof(feedForwardDim), nameof(feedForwardDim), feedForwardDim);
        var random = new DeterministicRandom(seed);
        float[] Uniform(long count, float low, float high) => RandomWeights.Uniform(random, count, low, high);

        float[] Matrix(int rows, int columns) => Uniform((long)rows * columns, -1 / MathF.Sqrt(rows), 1 / MathF.Sqrt(rows));
        int d = modelDim, f = feedForwardDim;
        return new EncoderLayerWeights
        {
            QueryWeights = Matrix(d, d), QueryBias = Uniform(d, -0.1f, 0.1f),
            KeyWeights = Matrix(d, d), KeyBias = Uniform(d, -0.1f, 0.1f),
            ValueWeights = Matrix(d, d), ValueBias = Uniform(d, -0.1f, 0.1f),
            OutputWeights = Matrix(d, d), OutputBias = Uniform(d, -0.1f, 0.1f),
            AttentionNormGamma = Uniform(d, 0.8f, 1.2f), AttentionNormBeta = Uniform(d, -0.1f, 0.1f),
            FeedForwardUpWeights = Matrix(d, f), FeedForwardUpBias = Uniform(f, -0.1f, 0.1f),
            FeedForwardDownWeights = Matrix(f, d), FeedForwardDownBias = Uniform(d, -0.1f, 0.1f),
            FeedForwardNormGamma = Uniform(d, 0.8f, 1.2f), FeedForwardNormBeta = Uniform(d, -0.1f, 0.1f),
        };
    }
}
