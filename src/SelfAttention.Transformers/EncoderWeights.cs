namespace SelfAttention.Transformers;

/// <summary>
/// Everything a <see cref="TransformerEncoder"/> is built from: the embedding tables, each layer's weights, and the
/// options every layer shares (heads, epsilon, placement, activation). The loaders
/// (<see cref="OnnxEncoderLoader"/>, <see cref="HuggingFaceEncoderLoader"/>) return one; tests build random ones.
/// </summary>
public sealed record EncoderWeights
{
    /// <summary>The word, position and token-type tables and their LayerNorm.</summary>
    public required EmbeddingWeights Embeddings { get; init; }

    /// <summary>The layers' weights, first layer first; at least one.</summary>
    public required IReadOnlyList<EncoderLayerWeights> Layers { get; init; }

    /// <summary>The options of every layer; the embeddings' LayerNorm uses the same epsilon.</summary>
    public required EncoderLayerOptions LayerOptions { get; init; }

    /// <summary>
    /// Random weights of a small encoder for tests and benchmarks (see <see cref="EmbeddingWeights.CreateRandom"/> and
    /// <see cref="EncoderLayerWeights.CreateRandom"/>), with BERT's options: post-LN, GELU, epsilon 1e-12.
    /// </summary>
    /// <param name="vocabularySize">Word pieces, ≥ 1.</param>
    /// <param name="maxPositions">The longest sequence, ≥ 1.</param>
    /// <param name="modelDim">d, ≥ 1.</param>
    /// <param name="heads">Attention heads, dividing d.</param>
    /// <param name="feedForwardDim">f, ≥ 1.</param>
    /// <param name="layers">Layers, ≥ 1.</param>
    /// <param name="seed">The seed.</param>
    /// <returns>The weights.</returns>
    /// <exception cref="ArgumentException">A size is out of range.</exception>
    public static EncoderWeights CreateRandom(int vocabularySize, int maxPositions, int modelDim, int heads, int feedForwardDim, int layers, ulong seed)
    {
        if (layers < 1) SelfAttention.Internal.ThrowHelper.ThrowNotPositive(nameof(layers), nameof(layers), layers);
        var list = new EncoderLayerWeights[layers];
        for (int i = 0; i < layers; i++)
        {
            list[i] = EncoderLayerWeights.CreateRandom(modelDim, feedForwardDim, seed + 1 + (ulong)i);
        }

        return new EncoderWeights
        {
            Embeddings = EmbeddingWeights.CreateRandom(vocabularySize, maxPositions, 2, modelDim, seed),
            Layers = list,
            LayerOptions = new EncoderLayerOptions { Heads = heads },
        };
    }
}
