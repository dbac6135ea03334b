namespace SelfAttention.Transformers;

/// <summary>
/// The weights of a BERT-style embedding layer, each table row-major with one row of the model width d per entry:
/// word pieces, absolute positions and token types (segments), then a LayerNorm. <see cref="TokenEmbeddings"/> copies
/// them at construction.
/// </summary>
public sealed record EmbeddingWeights
{
    /// <summary>The word-piece table, <c>[vocabularySize, d]</c>.</summary>
    public required float[] Words { get; init; }

    /// <summary>The learned absolute positions, <c>[maxPositions, d]</c>: the longest sequence is maxPositions tokens.</summary>
    public required float[] Positions { get; init; }

    /// <summary>The token-type (segment) table, <c>[tokenTypes, d]</c>; empty for a model without one.</summary>
    public float[] TokenTypes { get; init; } = [];

    /// <summary>The LayerNorm's scale, <c>[d]</c>; its length is the model width.</summary>
    public required float[] NormGamma { get; init; }

    /// <summary>The LayerNorm's shift, <c>[d]</c>.</summary>
    public required float[] NormBeta { get; init; }

    /// <summary>Random weights for tests and benchmarks: tables uniform in ±1, the norm's scale in [0.8, 1.2], its shift in ±0.1.</summary>
    /// <param name="vocabularySize">Rows of the word table, ≥ 1.</param>
    /// <param name="maxPositions">Rows of the position table, ≥ 1.</param>
    /// <param name="tokenTypes">Rows of the token-type table, ≥ 0.</param>
    /// <param name="modelDim">d, ≥ 1.</param>
    /// <param name="seed">The seed (<see cref="DeterministicRandom"/>).</param>
    /// <returns>The weights.</returns>
    /// <exception cref="ArgumentException">A size is out of range, or a table would pass <see cref="Array.MaxLength"/> elements.</exception>
    public static EmbeddingWeights CreateRandom(int vocabularySize, int maxPositions, int tokenTypes, int modelDim, ulong seed)
    {
        if (vocabularySize < 1) SelfAttention.Internal.ThrowHelper.ThrowNotPositive(nameof(vocabularySize), nameof(vocabularySize), vocabularySize);
        if (maxPositions < 1) SelfAttention.Internal.ThrowHelper.ThrowNotPositive(nameof(maxPositions), nameof(maxPositions), maxPositions);
        if (tokenTypes < 0) SelfAttention.Internal.ThrowHelper.ThrowNegative(nameof(tokenTypes), nameof(tokenTypes), tokenTypes);
        if (modelDim < 1) SelfAttention.Internal.ThrowHelper.ThrowNotPositive(nameof(modelDim), nameof(modelDim), modelDim);
        SelfAttention.Internal.AttentionValidation.Product(nameof(vocabularySize), "vocabularySize · modelDim", Array.MaxLength, vocabularySize, modelDim);
        SelfAttention.Internal.AttentionValidation.Product(nameof(maxPositions), "maxPositions · modelDim", Array.MaxLength, maxPositions, modelDim);
        SelfAttention.Internal.AttentionValidation.Product(nameof(tokenTypes), "tokenTypes · modelDim", Array.MaxLength, tokenTypes, modelDim);
        var random = new DeterministicRandom(seed);
        float[] Uniform(long count, float low, float high) => RandomWeights.Uniform(random, count, low, high);

        return new EmbeddingWeights
        {
            Words = Uniform(vocabularySize * modelDim, -1, 1),
            Positions = Uniform(maxPositions * modelDim, -1, 1),
            TokenTypes = Uniform(tokenTypes * modelDim, -1, 1),
            NormGamma = Uniform(modelDim, 0.8f, 1.2f),
            NormBeta = Uniform(modelDim, -0.1f, 0.1f),
        };
    }
}
