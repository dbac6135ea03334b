using System.Globalization;
using SelfAttention.Internal;

namespace SelfAttention.Transformers;

/// <summary>
/// A BERT-style encoder: <see cref="TokenEmbeddings"/>, then a stack of <see cref="EncoderLayer"/>s, from token ids
/// to the last hidden state. Sequences of different lengths are packed (concatenated with cumulative offsets), so
/// every product and every attention runs over real tokens only: a batch costs what its tokens cost, with no padding.
/// Immutable after construction, safe to call from several threads at once; a steady-state call allocates nothing.
/// </summary>
public sealed class TransformerEncoder
{
    private readonly EncoderLayer[] _layers;

    /// <summary>Checks the weights, then copies and packs them.</summary>
    /// <param name="weights">The tables, the layers and their options; every layer must have the embeddings' width.</param>
    /// <exception cref="ArgumentException">A weight has the wrong shape (naming it), there are no layers, or an option is out of range.</exception>
    public TransformerEncoder(EncoderWeights weights)
    {
        if (weights is null) throw new ArgumentNullException(nameof(weights), "weights: expected the encoder's weights, actual null.");
        if (weights.LayerOptions is null) throw new ArgumentNullException(nameof(weights), "weights.LayerOptions: expected the layers' options, actual null.");
        if (weights.Layers is null || weights.Layers.Count == 0)
        {
            throw new ArgumentException("weights.Layers: expected at least one layer, actual none.", nameof(weights));
        }

        Embeddings = new TokenEmbeddings(weights.Embeddings, weights.LayerOptions.LayerNormEpsilon);
        _layers = new EncoderLayer[weights.Layers.Count];
        for (int i = 0; i < _layers.Length; i++)
        {
            _layers[i] = new EncoderLayer(weights.Layers[i] ?? throw new ArgumentNullException(nameof(weights),
                string.Create(CultureInfo.InvariantCulture, $"weights.Layers[{i}]: expected a layer's weights, actual null.")), weights.LayerOptions);
            if (_layers[i].ModelDim != Embeddings.ModelDim)
            {
                ThrowHelper.ThrowSizeMismatch(nameof(weights), string.Create(CultureInfo.InvariantCulture, $"weights.Layers[{i}] model width"), Embeddings.ModelDim, _layers[i].ModelDim);
            }
        }

        Options = weights.LayerOptions;
    }

    /// <summary>The embedding layer.</summary>
    public TokenEmbeddings Embeddings { get; }

    /// <summary>The layers, first first.</summary>
    public IReadOnlyList<EncoderLayer> Layers => _layers;

    /// <summary>The options every layer shares.</summary>
    public EncoderLayerOptions Options { get; }

    /// <summary>The model width d: the width of a hidden state.</summary>
    public int ModelDim => Embeddings.ModelDim;

    /// <summary>The longest sequence the position table allows.</summary>
    public int MaxSequenceLength => Embeddings.MaxPositions;

    /// <summary>Runs the encoder on packed sequences of token ids.</summary>
    /// <param name="tokenIds">Every sequence's ids, concatenated, <c>[totalTokens]</c>.</param>
    /// <param name="tokenTypeIds">Their token types, <c>[totalTokens]</c>; empty for all 0.</param>
    /// <param name="sequenceOffsets"><c>[batch + 1]</c> cumulative token counts, from 0 to totalTokens (see <see cref="TokenEmbeddings.Forward"/>).</param>
    /// <param name="hidden">The last hidden state, <c>[totalTokens, d]</c>.</param>
    /// <param name="maxDegreeOfParallelism">0 or 1: the calling thread only; n: up to n threads; −1: one per processor. Results are identical for every value.</param>
    /// <exception cref="ArgumentException">As <see cref="TokenEmbeddings.Forward"/>, or the degree is below −1. Nothing is written then.</exception>
    public void Forward(ReadOnlySpan<int> tokenIds, ReadOnlySpan<int> tokenTypeIds, ReadOnlySpan<int> sequenceOffsets, Span<float> hidden, int maxDegreeOfParallelism = 1)
    {
        Forward(tokenIds, tokenTypeIds, sequenceOffsets, hidden, _layers.Length, maxDegreeOfParallelism);
    }

    /// <summary>Runs the embeddings and the first <paramref name="layerCount"/> layers only: the hidden state that layer <paramref name="layerCount"/> (0-based) receives.</summary>
    /// <param name="tokenIds">Every sequence's ids, concatenated, <c>[totalTokens]</c>.</param>
    /// <param name="tokenTypeIds">Their token types, <c>[totalTokens]</c>; empty for all 0.</param>
    /// <param name="sequenceOffsets"><c>[batch + 1]</c> cumulative token counts, from 0 to totalTokens.</param>
    /// <param name="hidden">The hidden state after <paramref name="layerCount"/> layers, <c>[totalTokens, d]</c>.</param>
    /// <param name="layerCount">Layers to run, 0 (the embeddings alone) to <see cref="Layers"/>.Count.</param>
    /// <param name="maxDegreeOfParallelism">0 or 1: the calling thread only; n: up to n threads; −1: one per processor.</param>
    /// <exception cref="ArgumentException">As <see cref="Forward(ReadOnlySpan{int}, ReadOnlySpan{int}, ReadOnlySpan{int}, Span{float}, int)"/>, or the count is out of range.</exception>
    public void Forward(ReadOnlySpan<int> tokenIds, ReadOnlySpan<int> tokenTypeIds, ReadOnlySpan<int> sequenceOffsets, Span<float> hidden, int layerCount, int maxDegreeOfParallelism)
    {
        if ((uint)layerCount > (uint)_layers.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(layerCount), layerCount,
                string.Create(CultureInfo.InvariantCulture, $"layerCount: expected 0 to {_layers.Length}, actual {layerCount}."));
        }

        TransformerValidation.CheckDegree(maxDegreeOfParallelism);
        Embeddings.Validate(tokenIds, tokenTypeIds, sequenceOffsets, hidden.Length, nameof(hidden));
        Embeddings.Run(tokenIds, tokenTypeIds, sequenceOffsets, hidden, maxDegreeOfParallelism);
        for (int i = 0; i < layerCount; i++)
        {
            _layers[i].Forward(hidden, hidden, sequenceOffsets, maxDegreeOfParallelism);
        }
    }

    /// <summary>
    /// The attention weights of layer <paramref name="layer"/> for one sentence: the embeddings and the layers before
    /// it run first, then that layer's per-head softmax (see <see cref="EncoderLayer.AttentionWeights"/>).
    /// </summary>
    /// <param name="tokenIds">One sequence's ids, <c>[n]</c>.</param>
    /// <param name="layer">The layer, 0-based.</param>
    /// <param name="weights">The weights, <c>[heads, n, n]</c>.</param>
    /// <exception cref="ArgumentException">An id is out of range, the sequence is too long, the layer is out of range or <paramref name="weights"/> has the wrong length.</exception>
    public void AttentionWeights(ReadOnlySpan<int> tokenIds, int layer, Span<float> weights)
    {
        if ((uint)layer >= (uint)_layers.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(layer), layer,
                string.Create(CultureInfo.InvariantCulture, $"layer: expected 0 to {_layers.Length - 1}, actual {layer}."));
        }

        int n = tokenIds.Length;
        long expected = AttentionValidation.Product(nameof(weights), "heads · n²", Array.MaxLength, Options.Heads, n, n);
        if (weights.Length != expected) ThrowHelper.ThrowSizeMismatch(nameof(weights), "weights.Length (heads · n²)", expected, weights.Length);
        var hidden = new float[(long)n * ModelDim];
        Forward(tokenIds, [], [0, n], hidden, layer, 1);
        _layers[layer].AttentionWeights(hidden, weights);
    }
}
