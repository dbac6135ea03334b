using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Numerics.Tensors;
using CommunityToolkit.HighPerformance;
using SelfAttention.Internal;
using SelfAttention.Kernels;

namespace SelfAttention;

/// <summary>
/// A multi-head attention layer: <c>Q = X_q·W_q + b_q</c>, <c>K = X_kv·W_k + b_k</c>, <c>V = X_kv·W_v + b_v</c>, attention per
/// head (grouped-query when <see cref="KvHeads"/> &lt; <see cref="Heads"/>), then the heads concatenated and projected,
/// <c>output = concat(heads)·W_o + b_o</c>.
/// <para>
/// Weights are row-major <c>[in, out]</c>, so a projection is <c>x·W</c>: <see cref="QueryWeights"/> is
/// <c>[ModelDim, Heads·HeadDim]</c>, <see cref="KeyWeights"/> <c>[ModelDim, KvHeads·HeadDim]</c>,
/// <see cref="ValueWeights"/> <c>[ModelDim, KvHeads·ValueDim]</c>, <see cref="OutputWeights"/> <c>[Heads·ValueDim, ModelDim]</c>;
/// head h owns columns <c>[h·HeadDim, (h+1)·HeadDim)</c>. PyTorch's <c>nn.Linear</c> and Hugging Face checkpoints store
/// <c>[out, in]</c>: transpose each matrix when loading. PyTorch's <c>nn.MultiheadAttention</c> packs the three input
/// projections as <c>in_proj_weight [3·E, E]</c> (rows: q, then k, then v) and <c>in_proj_bias [3·E]</c>; its
/// <c>out_proj</c> is an <c>nn.Linear</c>.
/// </para>
/// A steady-state <see cref="Forward(ReadOnlySpan{float}, Span{float}, int, int, AttentionOptions)"/> allocates nothing
/// (its intermediate buffers are pooled). An instance may be used from several threads at once as long as nobody
/// writes its weights meanwhile.
/// </summary>
public sealed class MultiHeadAttention
{
    private readonly float[] _queryWeights, _keyWeights, _valueWeights, _outputWeights;
    private readonly float[] _queryBias, _keyBias, _valueBias, _outputBias;

    /// <summary>Creates a layer with zero weights; load them through the weight spans, or use <see cref="CreateRandom"/>.</summary>
    /// <param name="modelDim">Width of the input and output rows; at least 1.</param>
    /// <param name="heads">Query heads; at least 1.</param>
    /// <param name="kvHeads">Key/value heads; 0 means <paramref name="heads"/>; must divide <paramref name="heads"/>.</param>
    /// <param name="headDim">Width of a query/key head; 0 means <c>modelDim / heads</c> (which must then divide exactly).</param>
    /// <param name="valueDim">Width of a value head; 0 means <paramref name="headDim"/>.</param>
    /// <param name="useBias">Whether the four projections add a bias.</param>
    /// <exception cref="ArgumentException">A size is out of range (naming it), <paramref name="kvHeads"/> does not divide <paramref name="heads"/>, <paramref name="modelDim"/> does not divide by <paramref name="heads"/> with <paramref name="headDim"/> = 0, or a weight matrix would exceed <see cref="Array.MaxLength"/> elements.</exception>
    public MultiHeadAttention(int modelDim, int heads, int kvHeads = 0, int headDim = 0, int valueDim = 0, bool useBias = true)
    {
        if (modelDim < 1) ThrowHelper.ThrowNotPositive(nameof(modelDim), nameof(modelDim), modelDim);
        if (heads < 1) ThrowHelper.ThrowNotPositive(nameof(heads), nameof(heads), heads);
        if (kvHeads < 0) ThrowHelper.ThrowNegative(nameof(kvHeads), nameof(kvHeads), kvHeads);
        if (headDim < 0) ThrowHelper.ThrowNegative(nameof(headDim), nameof(headDim), headDim);
        if (valueDim < 0) ThrowHelper.ThrowNegative(nameof(valueDim), nameof(valueDim), valueDim);
        int kv = kvHeads == 0 ? heads : kvHeads;
        if (heads % kv != 0)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"kvHeads must divide heads ({heads}): expected a divisor of {heads} (or 0 for heads), actual {kvHeads}."), nameof(kvHeads));
        }

        int d = headDim;
        if (d == 0)
        {
            if (modelDim % heads != 0)
            {
                throw new ArgumentException(
                    string.Create(CultureInfo.InvariantCulture, $"headDim: with headDim = 0, modelDim must be a multiple of heads: expected a multiple of {heads}, actual {modelDim}."), nameof(headDim));
            }

            d = modelDim / heads;
        }

        int dv = valueDim == 0 ? d : valueDim;

        // Each weight matrix is one array; the widths (bias lengths) are factors of them, so they fit as well. Blame the
        // dimension the caller chose: an explicit head or value width, otherwise the model width it was derived from.
        string headName = headDim != 0 ? nameof(headDim) : nameof(modelDim), valueName = valueDim != 0 ? nameof(valueDim) : headName;
        int limit = LayerValidation.MaxArrayLength;
        long queryWeights = AttentionValidation.Product(headName, "QueryWeights (modelDim·heads·headDim)", limit, modelDim, heads, d);
        long keyWeights = AttentionValidation.Product(headName, "KeyWeights (modelDim·kvHeads·headDim)", limit, modelDim, kv, d);
        long valueWeights = AttentionValidation.Product(valueName, "ValueWeights (modelDim·kvHeads·valueDim)", limit, modelDim, kv, dv);
        long outputWeights = AttentionValidation.Product(valueName, "OutputWeights (heads·valueDim·modelDim)", limit, heads, dv, modelDim);

        ModelDim = modelDim;
        Heads = heads;
        KvHeads = kv;
        HeadDim = d;
        ValueDim = dv;
        HasBias = useBias;
        _queryWeights = new float[queryWeights];
        _keyWeights = new float[keyWeights];
        _valueWeights = new float[valueWeights];
        _outputWeights = new float[outputWeights];
        _queryBias = useBias ? new float[heads * d] : [];
        _keyBias = useBias ? new float[kv * d] : [];
        _valueBias = useBias ? new float[kv * dv] : [];
        _outputBias = useBias ? new float[modelDim] : [];
    }

    /// <summary>
    /// A layer with reproducible random weights: each matrix Xavier/Glorot-uniform from <see cref="DeterministicRandom"/>
    /// seeded with <paramref name="seed"/>, in the order W_q, W_k, W_v, W_o; biases zero. The same seed gives the same
    /// weights on every machine and .NET version.
    /// </summary>
    /// <param name="modelDim">Width of the input and output rows.</param>
    /// <param name="heads">Query heads.</param>
    /// <param name="seed">The seed.</param>
    /// <param name="kvHeads">Key/value heads; 0 means <paramref name="heads"/>.</param>
    /// <param name="headDim">Width of a query/key head; 0 means <c>modelDim / heads</c>.</param>
    /// <param name="valueDim">Width of a value head; 0 means the head dim.</param>
    /// <param name="useBias">Whether the projections add a bias (initialised to zero).</param>
    /// <returns>The layer.</returns>
    public static MultiHeadAttention CreateRandom(int modelDim, int heads, ulong seed, int kvHeads = 0, int headDim = 0, int valueDim = 0, bool useBias = true)
    {
        var layer = new MultiHeadAttention(modelDim, heads, kvHeads, headDim, valueDim, useBias);
        var random = new DeterministicRandom(seed);
        random.FillXavierUniform(layer._queryWeights, modelDim, layer.Heads * layer.HeadDim);
        random.FillXavierUniform(layer._keyWeights, modelDim, layer.KvHeads * layer.HeadDim);
        random.FillXavierUniform(layer._valueWeights, modelDim, layer.KvHeads * layer.ValueDim);
        random.FillXavierUniform(layer._outputWeights, layer.Heads * layer.ValueDim, modelDim);
        return layer;
    }

    /// <summary>Width of the input and output rows.</summary>
    public int ModelDim { get; }

    /// <summary>Query heads.</summary>
    public int Heads { get; }

    /// <summary>Key/value heads; divides <see cref="Heads"/>.</summary>
    public int KvHeads { get; }

    /// <summary>Width of a query/key head.</summary>
    public int HeadDim { get; }

    /// <summary>Width of a value head.</summary>
    public int ValueDim { get; }

    /// <summary>Whether the projections add biases.</summary>
    public bool HasBias { get; }

    /// <summary>W_q, <c>[ModelDim, Heads·HeadDim]</c> row-major.</summary>
    public Span<float> QueryWeights => _queryWeights;

    /// <summary>W_k, <c>[ModelDim, KvHeads·HeadDim]</c> row-major.</summary>
    public Span<float> KeyWeights => _keyWeights;

    /// <summary>W_v, <c>[ModelDim, KvHeads·ValueDim]</c> row-major.</summary>
    public Span<float> ValueWeights => _valueWeights;

    /// <summary>W_o, <c>[Heads·ValueDim, ModelDim]</c> row-major.</summary>
    public Span<float> OutputWeights => _outputWeights;

    /// <summary>b_q, <c>[Heads·HeadDim]</c>; empty without biases.</summary>
    public Span<float> QueryBias => _queryBias;

    /// <summary>b_k, <c>[KvHeads·HeadDim]</c>; empty without biases.</summary>
    public Span<float> KeyBias => _keyBias;

    /// <summary>b_v, <c>[KvHeads·ValueDim]</c>; empty without biases.</summary>
    public Span<float> ValueBias => _valueBias;

    /// <summary>b_o, <c>[ModelDim]</c>; empty without biases.</summary>
    public Span<float> OutputBias => _outputBias;

    /// <summary>Self-attention: queries, keys and values all come from <paramref name="input"/>.</summary>
    /// <param name="input"><c>[batch, sequenceLength, ModelDim]</c>.</param>
    /// <param name="output">Receives <c>[batch, sequenceLength, ModelDim]</c>; must not overlap the input.</param>
    /// <param name="batch">Sequences; at least 0.</param>
    /// <param name="sequenceLength">Tokens per sequence; at least 0.</param>
    /// <param name="options">Scale, causal mask, normalisation, threads and kernel, as for <see cref="Attention"/>.</param>
    /// <exception cref="ArgumentException">A length does not match, a size is negative or overflows, or the output overlaps the input.</exception>
    public void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, int sequenceLength, AttentionOptions options = default) =>
        Forward(LayerValidation.ForwardNames.Self, input, input, output, default, AttentionWeightsMode.PerHead, hasWeights: false, batch, sequenceLength, sequenceLength, false, default, options);

    /// <summary>
    /// Self-attention (as <see cref="Forward(ReadOnlySpan{float}, Span{float}, int, int, AttentionOptions)"/>) with
    /// <paramref name="modifiers"/> (see <see cref="AttentionModifiers"/>) applied to the attention of the projected heads:
    /// ALiBi slopes and sinks per query head (<c>[Heads]</c>), a dense mask over <c>[batch, Heads, sequenceLength, sequenceLength]</c>
    /// laid out by its strides, and each row's log-sum-exp, <c>[batch, Heads, sequenceLength]</c>.
    /// </summary>
    /// <param name="input"><c>[batch, sequenceLength, ModelDim]</c>.</param>
    /// <param name="output">Receives <c>[batch, sequenceLength, ModelDim]</c>; must not overlap the input.</param>
    /// <param name="batch">Sequences; at least 0.</param>
    /// <param name="sequenceLength">Tokens per sequence; at least 0.</param>
    /// <param name="modifiers">ALiBi slopes, sinks, log-sum-exp output, boolean or additive mask; empty members are none.</param>
    /// <param name="options">As for <see cref="Attention"/>.</param>
    /// <exception cref="ArgumentException">As for the overload without modifiers, or a modifier is invalid (parameter <c>modifiers</c>); nothing has been written.</exception>
    public void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, int sequenceLength, AttentionModifiers modifiers, AttentionOptions options = default) =>
        Forward(LayerValidation.ForwardNames.Self, input, input, output, default, AttentionWeightsMode.PerHead, hasWeights: false, batch, sequenceLength, sequenceLength, true, modifiers, options);

    /// <summary>
    /// Self-attention (as <see cref="Forward(ReadOnlySpan{float}, Span{float}, int, int, AttentionModifiers, AttentionOptions)"/>)
    /// under a modifier of your own, <paramref name="modifier"/> (see <see cref="IAttentionModifier{TSelf}"/>), applied to
    /// the attention of the projected heads: it is asked with the sequence, the query head and token indices.
    /// </summary>
    /// <typeparam name="TModifier">Your modifier struct.</typeparam>
    /// <param name="input"><c>[batch, sequenceLength, ModelDim]</c>.</param>
    /// <param name="output">Receives <c>[batch, sequenceLength, ModelDim]</c>; must not overlap the input.</param>
    /// <param name="batch">Sequences; at least 0.</param>
    /// <param name="sequenceLength">Tokens per sequence; at least 0.</param>
    /// <param name="modifier">Your modifier; read in place for the duration of the call.</param>
    /// <param name="modifiers">ALiBi slopes, sinks, log-sum-exp output, boolean or additive mask; <c>default</c> for none.</param>
    /// <param name="options">As for <see cref="Attention"/>.</param>
    /// <exception cref="ArgumentException">As for the overload without <paramref name="modifier"/>, or the modifier changes scores and the normalisation is not softmax (parameter <c>modifier</c>); nothing has been written.</exception>
    public void Forward<TModifier>(ReadOnlySpan<float> input, Span<float> output, int batch, int sequenceLength, TModifier modifier,
                                   AttentionModifiers modifiers, AttentionOptions options = default)
        where TModifier : struct, IAttentionModifier<TModifier>
    {
        ModifierValidation.ValidateUser<TModifier>(options);
        var shape = new AttentionShape(batch, sequenceLength, sequenceLength, Heads, HeadDim) { KvHeads = KvHeads, ValueDim = ValueDim };
        var sizes = LayerValidation.Validate(this, LayerValidation.ForwardNames.Self, input, input, output, default, AttentionWeightsMode.PerHead, hasWeights: false, shape, options);
        ValidateModifiers(modifiers, batch, sequenceLength, sequenceLength, options, output, input, input);
        if (sizes.QueryRows == 0)
        {
            return;
        }

        using var work = Project(input, input, sizes);
        Attention.ComputeMultiHead(work.Queries, work.Keys, work.Values, work.Context, shape, modifier, modifiers, options);
        ProjectOutput(work.Context, output, sizes.QueryRows);
    }

    /// <summary>
    /// Incremental self-attention against a <see cref="KvCache"/>: projects the new tokens, appends their keys and values
    /// to the cache, and lets their queries attend to every cached token (with <see cref="AttentionOptions.IsCausal"/>,
    /// bottom-right: new token i sees the cache up to itself). A prompt's prefill is one call with all its tokens; each
    /// generated token is then one call with <paramref name="sequenceLength"/> = 1.
    /// </summary>
    /// <param name="input">The new tokens, <c>[batch, sequenceLength, ModelDim]</c>.</param>
    /// <param name="output">Receives <c>[batch, sequenceLength, ModelDim]</c>.</param>
    /// <param name="batch">Sequences; must equal the cache's <see cref="KvCache.Batch"/>.</param>
    /// <param name="sequenceLength">New tokens per sequence; 0 does nothing.</param>
    /// <param name="cache">This layer's cache: KvHeads, HeadDim and ValueDim as the layer's, with room for the new tokens.</param>
    /// <param name="options">As for <see cref="Attention"/>; use <c>IsCausal = true</c> for generation.</param>
    /// <exception cref="ArgumentNullException"><paramref name="cache"/> is null.</exception>
    /// <exception cref="ArgumentException">A length does not match, <paramref name="batch"/> is not the cache's, the cache does not fit the layer or is full, or an option is out of range; neither the output nor the cache has changed.</exception>
    public void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, int sequenceLength, KvCache cache, AttentionOptions options = default) =>
        Forward(input, output, batch, sequenceLength, cache, hasModifiers: false, default, options);

    /// <summary>
    /// Incremental self-attention against a <see cref="KvCache"/> (as <see cref="Forward(ReadOnlySpan{float}, Span{float}, int, int, KvCache, AttentionOptions)"/>)
    /// with <paramref name="modifiers"/>, passed to <see cref="KvCache.Attend(ReadOnlySpan{float}, Span{float}, int, int, AttentionModifiers, AttentionOptions)"/>:
    /// ALiBi over each sequence's cached tokens (the new ones included), sinks per head, each new row's log-sum-exp
    /// <c>[batch, Heads, sequenceLength]</c>, a dense mask over <c>[batch, Heads, sequenceLength, cache.Length + sequenceLength]</c>.
    /// The modifiers are validated before the cache is touched.
    /// </summary>
    /// <param name="input">The new tokens, <c>[batch, sequenceLength, ModelDim]</c>.</param>
    /// <param name="output">Receives <c>[batch, sequenceLength, ModelDim]</c>.</param>
    /// <param name="batch">Sequences; must equal the cache's <see cref="KvCache.Batch"/>.</param>
    /// <param name="sequenceLength">New tokens per sequence; 0 does nothing.</param>
    /// <param name="cache">This layer's cache, with room for the new tokens.</param>
    /// <param name="modifiers">ALiBi slopes, sinks, log-sum-exp output, boolean or additive mask; empty members are none.</param>
    /// <param name="options">As for <see cref="Attention"/>; use <c>IsCausal = true</c> for generation.</param>
    /// <exception cref="ArgumentNullException"><paramref name="cache"/> is null.</exception>
    /// <exception cref="ArgumentException">As for the overload without modifiers, or a modifier is invalid (parameter <c>modifiers</c>); neither the output nor the cache has changed.</exception>
    public void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, int sequenceLength, KvCache cache, AttentionModifiers modifiers, AttentionOptions options = default) =>
        Forward(input, output, batch, sequenceLength, cache, hasModifiers: true, modifiers, options);

    /// <summary>
    /// Incremental self-attention against a <see cref="KvCache"/> (as <see cref="Forward(ReadOnlySpan{float}, Span{float}, int, int, KvCache, AttentionModifiers, AttentionOptions)"/>)
    /// under a modifier of your own, passed to <see cref="KvCache.Attend{TModifier}(ReadOnlySpan{float}, Span{float}, int, int, TModifier, AttentionModifiers, AttentionOptions)"/>:
    /// asked with the sequence, the query head, the new token's row (0 ≤ i &lt; sequenceLength) and the cached token.
    /// </summary>
    /// <typeparam name="TModifier">Your modifier struct.</typeparam>
    /// <param name="input">The new tokens, <c>[batch, sequenceLength, ModelDim]</c>.</param>
    /// <param name="output">Receives <c>[batch, sequenceLength, ModelDim]</c>.</param>
    /// <param name="batch">Sequences; must equal the cache's <see cref="KvCache.Batch"/>.</param>
    /// <param name="sequenceLength">New tokens per sequence; 0 does nothing.</param>
    /// <param name="cache">This layer's cache, with room for the new tokens.</param>
    /// <param name="modifier">Your modifier; read in place for the duration of the call.</param>
    /// <param name="modifiers">ALiBi slopes, sinks, log-sum-exp output, boolean or additive mask; <c>default</c> for none.</param>
    /// <param name="options">As for <see cref="Attention"/>; use <c>IsCausal = true</c> for generation.</param>
    /// <exception cref="ArgumentNullException"><paramref name="cache"/> is null.</exception>
    /// <exception cref="ArgumentException">As for the overload without <paramref name="modifier"/>, or the modifier changes scores and the normalisation is not softmax (parameter <c>modifier</c>); neither the output nor the cache has changed.</exception>
    public void Forward<TModifier>(ReadOnlySpan<float> input, Span<float> output, int batch, int sequenceLength, KvCache cache, TModifier modifier,
                                   AttentionModifiers modifiers, AttentionOptions options = default)
        where TModifier : struct, IAttentionModifier<TModifier>
    {
        ModifierValidation.ValidateUser<TModifier>(options);
        Forward(input, output, batch, sequenceLength, cache, hasModifiers: true, modifiers, options, hasUser: true, modifier);
    }

    private void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, int sequenceLength, KvCache cache, bool hasModifiers,
                         in AttentionModifiers modifiers, AttentionOptions options) =>
        Forward(input, output, batch, sequenceLength, cache, hasModifiers, modifiers, options, hasUser: false, default(NoUserModifier));

    // user: the caller's modifier when hasUser; otherwise never used (so no kernel is compiled for NoUserModifier).
    private void Forward<TModifier>(ReadOnlySpan<float> input, Span<float> output, int batch, int sequenceLength, KvCache cache, bool hasModifiers,
                                    in AttentionModifiers modifiers, AttentionOptions options, bool hasUser, TModifier user)
        where TModifier : struct, IAttentionModifier<TModifier>
    {
        ArgumentNullException.ThrowIfNull(cache);
        var shape = new AttentionShape(batch, sequenceLength, sequenceLength, Heads, HeadDim) { KvHeads = KvHeads, ValueDim = ValueDim };
        var sizes = LayerValidation.Validate(this, LayerValidation.ForwardNames.Self, input, input, output, default, AttentionWeightsMode.PerHead, hasWeights: false, shape, options);
        if (cache.KvHeads != KvHeads || cache.HeadDim != HeadDim || cache.ValueDim != ValueDim)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"cache: expected KvHeads {KvHeads}, HeadDim {HeadDim}, ValueDim {ValueDim} (the layer's); actual KvHeads {cache.KvHeads}, HeadDim {cache.HeadDim}, ValueDim {cache.ValueDim}."), nameof(cache));
        }

        if (batch != cache.Batch)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"batch: expected {cache.Batch} (the cache's batch), actual {batch}."), nameof(batch));
        }

        if (sequenceLength > cache.Capacity - cache.Length)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"cache: expected room for {sequenceLength} tokens (sequenceLength), actual {cache.Capacity - cache.Length} left of {cache.Capacity}."), nameof(cache));
        }

        if (hasModifiers)
        {
            // The key length the cache will have once the new tokens are in: every sequence grows by sequenceLength.
            ValidateModifiers(modifiers, batch, sequenceLength, cache.Length + sequenceLength, options, output, input, default);
        }

        if (sizes.QueryRows == 0)
        {
            return; // no new tokens: nothing to append, nothing to write
        }

        using var work = Project(input, input, sizes);
        cache.Append(work.Keys, work.Values, sequenceLength);
        if (hasUser)
        {
            cache.Attend(work.Queries, work.Context, Heads, sequenceLength, user, modifiers, options);
        }
        else if (hasModifiers)
        {
            cache.Attend(work.Queries, work.Context, Heads, sequenceLength, modifiers, options);
        }
        else
        {
            cache.Attend(work.Queries, work.Context, Heads, sequenceLength, options);
        }
        ProjectOutput(work.Context, output, sizes.QueryRows);
    }

    /// <summary>Cross-attention: queries from <paramref name="query"/>, keys and values from <paramref name="keyValue"/>.</summary>
    /// <param name="query"><c>[batch, queryLength, ModelDim]</c>.</param>
    /// <param name="keyValue"><c>[batch, keyLength, ModelDim]</c>.</param>
    /// <param name="output">Receives <c>[batch, queryLength, ModelDim]</c>; must not overlap the inputs.</param>
    /// <param name="batch">Sequences; at least 0.</param>
    /// <param name="queryLength">Query tokens per sequence.</param>
    /// <param name="keyLength">Key/value tokens per sequence; 0 is valid: every query sees no key, so its attention output is 0 and its output row is the output bias b_o (0 without biases).</param>
    /// <param name="options">As for <see cref="Attention"/>; a causal mask is aligned bottom-right.</param>
    /// <exception cref="ArgumentException">A length does not match, a size is negative or overflows, or the output overlaps an input.</exception>
    public void Forward(ReadOnlySpan<float> query, ReadOnlySpan<float> keyValue, Span<float> output,
                        int batch, int queryLength, int keyLength, AttentionOptions options = default) =>
        Forward(LayerValidation.ForwardNames.Cross, query, keyValue, output, default, AttentionWeightsMode.PerHead, hasWeights: false, batch, queryLength, keyLength, false, default, options);

    /// <summary>
    /// Cross-attention (as <see cref="Forward(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, int, int, int, AttentionOptions)"/>)
    /// with <paramref name="modifiers"/>: ALiBi slopes and sinks per query head, a dense mask over
    /// <c>[batch, Heads, queryLength, keyLength]</c>, and each row's log-sum-exp, <c>[batch, Heads, queryLength]</c>
    /// (with <paramref name="keyLength"/> = 0: the sink's, or −∞).
    /// </summary>
    /// <param name="query"><c>[batch, queryLength, ModelDim]</c>.</param>
    /// <param name="keyValue"><c>[batch, keyLength, ModelDim]</c>.</param>
    /// <param name="output">Receives <c>[batch, queryLength, ModelDim]</c>; must not overlap the inputs.</param>
    /// <param name="batch">Sequences; at least 0.</param>
    /// <param name="queryLength">Query tokens per sequence.</param>
    /// <param name="keyLength">Key/value tokens per sequence; 0 is valid.</param>
    /// <param name="modifiers">ALiBi slopes, sinks, log-sum-exp output, boolean or additive mask; empty members are none.</param>
    /// <param name="options">As for <see cref="Attention"/>.</param>
    /// <exception cref="ArgumentException">As for the overload without modifiers, or a modifier is invalid (parameter <c>modifiers</c>); nothing has been written.</exception>
    public void Forward(ReadOnlySpan<float> query, ReadOnlySpan<float> keyValue, Span<float> output,
                        int batch, int queryLength, int keyLength, AttentionModifiers modifiers, AttentionOptions options = default) =>
        Forward(LayerValidation.ForwardNames.Cross, query, keyValue, output, default, AttentionWeightsMode.PerHead, hasWeights: false, batch, queryLength, keyLength, true, modifiers, options);

    /// <summary>Cross- (or, with the same span twice, self-) attention that also writes the attention weights.</summary>
    /// <param name="query"><c>[batch, queryLength, ModelDim]</c>.</param>
    /// <param name="keyValue"><c>[batch, keyLength, ModelDim]</c>.</param>
    /// <param name="output">Receives <c>[batch, queryLength, ModelDim]</c>.</param>
    /// <param name="attentionWeights">Receives <c>[batch, Heads, queryLength, keyLength]</c> (<see cref="AttentionWeightsMode.PerHead"/>) or <c>[batch, queryLength, keyLength]</c> (<see cref="AttentionWeightsMode.AverageOverHeads"/>).</param>
    /// <param name="mode">Per head or averaged over heads.</param>
    /// <param name="batch">Sequences.</param>
    /// <param name="queryLength">Query tokens per sequence.</param>
    /// <param name="keyLength">Key/value tokens per sequence; 0 is valid (see the overload without weights).</param>
    /// <param name="options">As for <see cref="Attention"/>.</param>
    /// <exception cref="ArgumentException">A length does not match, a size is negative or overflows, an output overlaps an input, or the mode is undefined.</exception>
    public void Forward(ReadOnlySpan<float> query, ReadOnlySpan<float> keyValue, Span<float> output, Span<float> attentionWeights,
                        AttentionWeightsMode mode, int batch, int queryLength, int keyLength, AttentionOptions options = default) =>
        Forward(LayerValidation.ForwardNames.Cross, query, keyValue, output, attentionWeights, mode, hasWeights: true, batch, queryLength, keyLength, false, default, options);

    private void Forward(LayerValidation.ForwardNames names, ReadOnlySpan<float> query, ReadOnlySpan<float> keyValue, Span<float> output, Span<float> weights,
                         AttentionWeightsMode mode, bool hasWeights, int batch, int queryLength, int keyLength,
                         bool hasModifiers, in AttentionModifiers modifiers, AttentionOptions options)
    {
        var shape = new AttentionShape(batch, queryLength, keyLength, Heads, HeadDim) { KvHeads = KvHeads, ValueDim = ValueDim };
        var sizes = LayerValidation.Validate(this, names, query, keyValue, output, weights, mode, hasWeights, shape, options);
        if (hasModifiers)
        {
            ValidateModifiers(modifiers, batch, queryLength, keyLength, options, output, query, keyValue);
        }

        if (sizes.QueryRows == 0)
        {
            return; // no query rows: the output and the weights are empty
        }

        if (keyLength == 0)
        {
            // Every query row sees no key: its attention output is the zero vector, and W_o maps that to 0, so each output
            // row is b_o. The weights ([.., queryLength, 0]) are empty. No projection, no attention, no rental.
            WriteOutputBias(output, sizes.QueryRows);
            WriteEmptyLogSumExp(modifiers, queryLength);
            return;
        }

        // The averaging buffer holds one sequence's per-head weights, [Heads, queryLength, keyLength]: Heads times one
        // sequence's block of the caller's averaged weights.
        float[]? average = hasWeights && mode == AttentionWeightsMode.AverageOverHeads ? ArrayPool<float>.Shared.Rent(Heads * queryLength * keyLength) : null;
        try
        {
            using var work = Project(query, keyValue, sizes);
            if (hasModifiers)
            {
                Attention.ComputeMultiHead(work.Queries, work.Keys, work.Values, work.Context, shape, modifiers, options);
            }
            else if (!hasWeights)
            {
                Attention.ComputeMultiHead(work.Queries, work.Keys, work.Values, work.Context, shape, options);
            }
            else
            {
                ComputeWithWeights(work.Queries, work.Keys, work.Values, work.Context, weights, average, mode, shape, options);
            }

            ProjectOutput(work.Context, output, sizes.QueryRows);
        }
        finally
        {
            if (average is not null)
            {
                ArrayPool<float>.Shared.Return(average);
            }
        }
    }

    /// <summary>The modifiers' checks for a layer call of these sizes (the layer's inputs and output stand in for the attention's buffers in the overlap checks).</summary>
    private void ValidateModifiers(in AttentionModifiers modifiers, int batch, int queryLength, int keyLength, in AttentionOptions options,
                                   ReadOnlySpan<float> output, ReadOnlySpan<float> query, ReadOnlySpan<float> keyValue) =>
        ModifierValidation.Validate(modifiers, batch, Heads, queryLength, keyLength, options,
                                    MemoryExtent.Of(output), MemoryExtent.Of(query), MemoryExtent.Of(keyValue), default);

    /// <summary>The log-sum-exp of rows that see no key, <c>[batch, Heads, queryLength]</c>: each head's sink, or −∞.</summary>
    private void WriteEmptyLogSumExp(in AttentionModifiers modifiers, int queryLength)
    {
        for (int r = 0; r < modifiers.LogSumExp.Length; r++)
        {
            modifiers.LogSumExp[r] = modifiers.Sinks.IsEmpty ? float.NegativeInfinity : modifiers.Sinks[r / queryLength % Heads];
        }
    }

    /// <summary>output <c>[rows, ModelDim]</c>: every row b_o, or zeros without biases (the projection of a zero context).</summary>
    private void WriteOutputBias(Span<float> output, int rows)
    {
        if (!HasBias)
        {
            output.Clear();
            return;
        }

        for (int r = 0; r < rows; r++)
        {
            _outputBias.CopyTo(output.Slice(r * ModelDim, ModelDim));
        }
    }

    /// <summary>
    /// Rents the intermediate buffers and computes the input projections: Q = query·W_q + b_q <c>[queryRows, Heads·HeadDim]</c>,
    /// K and V from <paramref name="keyValue"/> <c>[keyRows, KvHeads·HeadDim / ValueDim]</c>; the context buffer
    /// <c>[queryRows, Heads·ValueDim]</c> is left for the attention. Disposing returns the buffers to the pool.
    /// </summary>
    private Workspace Project(ReadOnlySpan<float> query, ReadOnlySpan<float> keyValue, in LayerValidation.ForwardSizes sizes)
    {
        int queryRows = sizes.QueryRows, keyRows = sizes.KeyRows;
        var work = new Workspace(sizes.ProjectedQueries, sizes.ProjectedKeys, sizes.ProjectedValues, sizes.Context);
        MatrixMultiply.Multiply(query, ModelDim, _queryWeights, Heads * HeadDim, _queryBias, work.Queries, Heads * HeadDim, queryRows, Heads * HeadDim, ModelDim);
        MatrixMultiply.Multiply(keyValue, ModelDim, _keyWeights, KvHeads * HeadDim, _keyBias, work.Keys, KvHeads * HeadDim, keyRows, KvHeads * HeadDim, ModelDim);
        MatrixMultiply.Multiply(keyValue, ModelDim, _valueWeights, KvHeads * ValueDim, _valueBias, work.Values, KvHeads * ValueDim, keyRows, KvHeads * ValueDim, ModelDim);
        return work;
    }

    /// <summary>output <c>[rows, ModelDim]</c> = context <c>[rows, Heads·ValueDim]</c>·W_o + b_o.</summary>
    private void ProjectOutput(Span<float> context, Span<float> output, int rows) =>
        MatrixMultiply.Multiply(context, Heads * ValueDim, _outputWeights, ModelDim, _outputBias, output, ModelDim, rows, ModelDim, Heads * ValueDim);

    /// <summary>The pooled intermediates of one forward pass: projected queries, keys, values and the attention context.</summary>
    private readonly struct Workspace : IDisposable
    {
        private readonly float[] _queries, _keys, _values, _context;
        private readonly int _queryLength, _keyLength, _valueLength, _contextLength;

        public Workspace(int queryLength, int keyLength, int valueLength, int contextLength)
        {
            (_queryLength, _keyLength, _valueLength, _contextLength) = (queryLength, keyLength, valueLength, contextLength);
            _queries = ArrayPool<float>.Shared.Rent(queryLength);
            _keys = ArrayPool<float>.Shared.Rent(keyLength);
            _values = ArrayPool<float>.Shared.Rent(valueLength);
            _context = ArrayPool<float>.Shared.Rent(contextLength);
        }

        public Span<float> Queries => _queries.AsSpan(0, _queryLength);

        public Span<float> Keys => _keys.AsSpan(0, _keyLength);

        public Span<float> Values => _values.AsSpan(0, _valueLength);

        public Span<float> Context => _context.AsSpan(0, _contextLength);

        public void Dispose()
        {
            ArrayPool<float>.Shared.Return(_queries);
            ArrayPool<float>.Shared.Return(_keys);
            ArrayPool<float>.Shared.Return(_values);
            ArrayPool<float>.Shared.Return(_context);
        }
    }

    // Every head's weights from one multi-head call: per head straight into [B, H, nq, nk]; averaged, one sequence at a
    // time into the pooled [H, nq, nk] and then summed into [B, nq, nk]. Called with nq ≥ 1 and nk ≥ 1 only (the empty
    // cases return earlier), and every offset is below a validated buffer length (at most int.MaxValue).
    private void ComputeWithWeights(Span<float> q, Span<float> k, Span<float> v, Span<float> context, Span<float> weights,
                                    float[]? average, AttentionWeightsMode mode, in AttentionShape shape, in AttentionOptions options)
    {
        int nq = shape.QueryLength, nk = shape.KeyLength, block = nq * nk;
        Debug.Assert(nq > 0 && nk > 0);
        if (mode == AttentionWeightsMode.PerHead)
        {
            Attention.ComputeMultiHead(q, k, v, context, weights, shape, options);
            return;
        }

        Debug.Assert(average is not null);
        int queryRow = nq * Heads * HeadDim, keyRow = nk * KvHeads * HeadDim, valueRow = nk * KvHeads * ValueDim, outputRow = nq * Heads * ValueDim;
        Span<float> perHead = average.AsSpan(0, Heads * block);
        for (int b = 0; b < shape.Batch; b++)
        {
            Attention.ComputeMultiHead(q.Slice(b * queryRow, queryRow), k.Slice(b * keyRow, keyRow), v.Slice(b * valueRow, valueRow),
                                       context.Slice(b * outputRow, outputRow), perHead, shape with { Batch = 1 }, options);
            Span<float> averaged = weights.Slice(b * block, block);
            averaged.Clear();
            for (int h = 0; h < Heads; h++)
            {
                TensorPrimitives.MultiplyAdd(perHead.Slice(h * block, block), 1f / Heads, averaged, averaged);
            }
        }
    }

    /// <summary>The cached forward's stand-in when the caller passes no modifier of their own; never given to a kernel.</summary>
    private readonly struct NoUserModifier : IAttentionModifier<NoUserModifier>
    {
        public static AttentionMaskKind MaskKind => AttentionMaskKind.None;

        public static bool ModifiesScores => false;

        public bool IsVisible(int batch, int head, int queryIndex, int keyIndex) => true;

        public float ModifyScore(float score, int batch, int head, int queryIndex, int keyIndex) => score;
    }
}
