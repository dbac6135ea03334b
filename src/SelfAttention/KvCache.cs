using System.Buffers;
using System.Globalization;
using System.Numerics.Tensors;
using SelfAttention.Internal;
using SelfAttention.Kernels;

namespace SelfAttention;

/// <summary>
/// The keys and values of every token seen so far in one attention layer, for generating one token at a time: append
/// the new tokens' keys and values, then let the new queries attend to everything cached. Capacity is fixed at
/// construction; nothing is allocated per call.
/// <para>
/// Layout per batch entry: keys <c>[Capacity, KvHeads·HeadDim]</c> and values <c>[Capacity, KvHeads·ValueDim]</c>,
/// row-major, the first <see cref="Length"/> rows in use. Attention steps with at most four new query rows (decoding)
/// read the cache in place, in memory order; longer ones (a prompt's prefill) go through the tiled kernel, which for
/// <see cref="KvCacheStorage.Half"/> storage first widens the cached prefix to float (O(n·d) beside O(n²·d) work).
/// </para>
/// Not thread-safe: one sequence of calls at a time.
/// </summary>
public sealed unsafe class KvCache
{
    private readonly float[] _keys = [], _values = [];
    private readonly Half[] _keysHalf = [], _valuesHalf = [];

    /// <summary>Creates an empty cache.</summary>
    /// <param name="capacity">Most tokens it holds; at least 1.</param>
    /// <param name="kvHeads">Key/value heads; at least 1.</param>
    /// <param name="headDim">Width of a key head; at least 1.</param>
    /// <param name="valueDim">Width of a value head; 0 means <paramref name="headDim"/>.</param>
    /// <param name="batch">Independent sequences, all at the same length; at least 1.</param>
    /// <param name="storage">float32 or half precision.</param>
    /// <exception cref="ArgumentException">A size is out of range (naming it), <paramref name="storage"/> is undefined, or the keys or values would exceed <see cref="Array.MaxLength"/> elements.</exception>
    public KvCache(int capacity, int kvHeads, int headDim, int valueDim = 0, int batch = 1, KvCacheStorage storage = KvCacheStorage.Single)
    {
        if (capacity < 1) ThrowHelper.ThrowNotPositive(nameof(capacity), nameof(capacity), capacity);
        if (kvHeads < 1) ThrowHelper.ThrowNotPositive(nameof(kvHeads), nameof(kvHeads), kvHeads);
        if (headDim < 1) ThrowHelper.ThrowNotPositive(nameof(headDim), nameof(headDim), headDim);
        if (valueDim < 0) ThrowHelper.ThrowNegative(nameof(valueDim), nameof(valueDim), valueDim);
        if (batch < 1) ThrowHelper.ThrowNotPositive(nameof(batch), nameof(batch), batch);
        if (storage is not (KvCacheStorage.Single or KvCacheStorage.Half))
        {
            throw new ArgumentOutOfRangeException(nameof(storage), storage,
                string.Create(CultureInfo.InvariantCulture, $"storage: expected Single (0) or Half (1), actual {(int)storage}."));
        }

        int dv = valueDim == 0 ? headDim : valueDim;

        // Keys and values are one array each. Blame the width the caller chose when it alone is too wide, else capacity.
        int limit = LayerValidation.MaxArrayLength;
        AttentionValidation.Product(nameof(headDim), "kvHeads·headDim (a key row)", limit, kvHeads, headDim);
        AttentionValidation.Product(valueDim != 0 ? nameof(valueDim) : nameof(headDim), "kvHeads·valueDim (a value row)", limit, kvHeads, dv);
        int keyElements = (int)AttentionValidation.Product(nameof(capacity), "keys (batch·capacity·kvHeads·headDim)", limit, batch, capacity, kvHeads, headDim);
        int valueElements = (int)AttentionValidation.Product(nameof(capacity), "values (batch·capacity·kvHeads·valueDim)", limit, batch, capacity, kvHeads, dv);

        Capacity = capacity;
        KvHeads = kvHeads;
        HeadDim = headDim;
        ValueDim = dv;
        Batch = batch;
        Storage = storage;
        if (storage == KvCacheStorage.Single)
        {
            _keys = new float[keyElements];
            _values = new float[valueElements];
        }
        else
        {
            _keysHalf = new Half[keyElements];
            _valuesHalf = new Half[valueElements];
        }
    }

    /// <summary>Most tokens the cache holds.</summary>
    public int Capacity { get; }

    /// <summary>Tokens cached now (the same for every batch entry).</summary>
    public int Length { get; private set; }

    /// <summary>Key/value heads.</summary>
    public int KvHeads { get; }

    /// <summary>Width of a key head.</summary>
    public int HeadDim { get; }

    /// <summary>Width of a value head.</summary>
    public int ValueDim { get; }

    /// <summary>Independent sequences.</summary>
    public int Batch { get; }

    /// <summary>The element type of the stored keys and values.</summary>
    public KvCacheStorage Storage { get; }

    /// <summary>Forgets every cached token; the memory is kept.</summary>
    public void Clear() => Length = 0;

    /// <summary>Keeps the first <paramref name="length"/> tokens and forgets the rest (to rewind a generation).</summary>
    /// <param name="length">Tokens to keep; from 0 to <see cref="Length"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is negative or above <see cref="Length"/>.</exception>
    public void Truncate(int length)
    {
        if ((uint)length > (uint)Length)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length,
                string.Create(CultureInfo.InvariantCulture, $"length: expected 0 to {Length} (the cached length), actual {length}."));
        }

        Length = length;
    }

    /// <summary>Appends the keys and values of <paramref name="tokenCount"/> new tokens per batch entry.</summary>
    /// <param name="keys"><c>[Batch, tokenCount, KvHeads·HeadDim]</c>.</param>
    /// <param name="values"><c>[Batch, tokenCount, KvHeads·ValueDim]</c>.</param>
    /// <param name="tokenCount">New tokens; at least 0.</param>
    /// <exception cref="ArgumentException">The lengths do not match, or the tokens do not fit in the remaining capacity; nothing is appended.</exception>
    public void Append(ReadOnlySpan<float> keys, ReadOnlySpan<float> values, int tokenCount)
    {
        if (tokenCount < 0) ThrowHelper.ThrowNegative(nameof(tokenCount), nameof(tokenCount), tokenCount);
        if (tokenCount > Capacity - Length)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"tokenCount: expected at most {Capacity - Length} (capacity {Capacity} − length {Length}), actual {tokenCount}."), nameof(tokenCount));
        }

        // tokenCount ≤ Capacity, so both products are at most the cache's own (validated) array lengths.
        int keyWidth = KvHeads * HeadDim, valueWidth = KvHeads * ValueDim;
        long expectedKeys = (long)Batch * tokenCount * keyWidth, expectedValues = (long)Batch * tokenCount * valueWidth;
        if (keys.Length != expectedKeys) ThrowHelper.ThrowSizeMismatch(nameof(keys), "keys length (Batch·tokenCount·KvHeads·HeadDim)", expectedKeys, keys.Length);
        if (values.Length != expectedValues) ThrowHelper.ThrowSizeMismatch(nameof(values), "values length (Batch·tokenCount·KvHeads·ValueDim)", expectedValues, values.Length);
        if (tokenCount == 0)
        {
            return;
        }

        for (int b = 0; b < Batch; b++)
        {
            int keyAt = (b * Capacity + Length) * keyWidth, valueAt = (b * Capacity + Length) * valueWidth;
            ReadOnlySpan<float> k = keys.Slice(b * tokenCount * keyWidth, tokenCount * keyWidth);
            ReadOnlySpan<float> v = values.Slice(b * tokenCount * valueWidth, tokenCount * valueWidth);
            if (Storage == KvCacheStorage.Single)
            {
                k.CopyTo(_keys.AsSpan(keyAt));
                v.CopyTo(_values.AsSpan(valueAt));
            }
            else
            {
                TensorPrimitives.ConvertToHalf(k, _keysHalf.AsSpan(keyAt, k.Length));
                TensorPrimitives.ConvertToHalf(v, _valuesHalf.AsSpan(valueAt, v.Length));
            }
        }

        Length += tokenCount;
    }

    /// <summary>
    /// Attention of <paramref name="queryLength"/> new query rows per batch entry against every cached token: the
    /// queries are the last <paramref name="queryLength"/> positions of the sequence, so with
    /// <see cref="AttentionOptions.IsCausal"/> (bottom-right) query row i sees the first <c>Length − queryLength + i + 1</c>
    /// tokens. A <see cref="AttentionOptions.Window"/> is aligned the same way (row i sits at token
    /// <c>Length − queryLength + i</c>), so a window of <c>(w, 0)</c> with causal sees the last <c>w + 1</c> tokens, and the
    /// tokens outside it are not read. Append the new tokens' keys and values first.
    /// </summary>
    /// <param name="query"><c>[Batch, queryLength, heads·HeadDim]</c>.</param>
    /// <param name="output">Receives <c>[Batch, queryLength, heads·ValueDim]</c>; must not overlap the query.</param>
    /// <param name="heads">Query heads; a multiple of <see cref="KvHeads"/>.</param>
    /// <param name="queryLength">New query rows per batch entry; at least 0. With no cached token every row gets 0.</param>
    /// <param name="options">As for <see cref="Attention"/>.</param>
    /// <exception cref="ArgumentException">A length does not match or overflows, <paramref name="heads"/> is not a positive multiple of <see cref="KvHeads"/>, the output overlaps the query, or an option is out of range; nothing is written.</exception>
    public void Attend(ReadOnlySpan<float> query, Span<float> output, int heads, int queryLength, AttentionOptions options = default)
    {
        if (heads < 1) ThrowHelper.ThrowNotPositive(nameof(heads), nameof(heads), heads);
        if (heads % KvHeads != 0)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"heads must be a multiple of the cache's KvHeads: expected a multiple of {KvHeads}, actual {heads}."), nameof(heads));
        }

        if (queryLength < 0) ThrowHelper.ThrowNegative(nameof(queryLength), nameof(queryLength), queryLength);
        float scale = AttentionValidation.ValidateOptions(options, HeadDim);

        // Row widths first: they must fit even when queryLength = 0 makes the buffers empty.
        AttentionValidation.Product(nameof(heads), "heads·HeadDim (a query row)", int.MaxValue, heads, HeadDim);
        AttentionValidation.Product(nameof(heads), "heads·ValueDim (an output row)", int.MaxValue, heads, ValueDim);
        long queryElements = AttentionValidation.Product(nameof(queryLength), "query (Batch·queryLength·heads·HeadDim)", int.MaxValue, Batch, queryLength, heads, HeadDim);
        long outputElements = AttentionValidation.Product(nameof(queryLength), "output (Batch·queryLength·heads·ValueDim)", int.MaxValue, Batch, queryLength, heads, ValueDim);
        if (query.Length != queryElements) ThrowHelper.ThrowSizeMismatch(nameof(query), "query length (Batch·queryLength·heads·HeadDim)", queryElements, query.Length);
        if (output.Length != outputElements) ThrowHelper.ThrowSizeMismatch(nameof(output), "output length (Batch·queryLength·heads·ValueDim)", outputElements, output.Length);
        AttentionValidation.CheckNoOverlap(output, query, nameof(output), nameof(query));

        if (queryLength == 0)
        {
            return; // nothing to write; in particular no widening of a Half cache
        }

        if (Length == 0)
        {
            output.Clear(); // no cached key: every query row sees none and gets 0
            return;
        }

        int keyWidth = KvHeads * HeadDim, valueWidth = KvHeads * ValueDim;
        bool inPlace = Storage == KvCacheStorage.Single || DecodeAttention.ServesInPlace(queryLength, options);
        float[]? wideKeys = null, wideValues = null;
        try
        {
            if (!inPlace)
            {
                // Prefill from Half storage: widen the cached prefix once (pooled), then run as float.
                wideKeys = ArrayPool<float>.Shared.Rent(Batch * Length * keyWidth);
                wideValues = ArrayPool<float>.Shared.Rent(Batch * Length * valueWidth);
                for (int b = 0; b < Batch; b++)
                {
                    TensorPrimitives.ConvertToSingle(_keysHalf.AsSpan(b * Capacity * keyWidth, Length * keyWidth), wideKeys.AsSpan(b * Length * keyWidth, Length * keyWidth));
                    TensorPrimitives.ConvertToSingle(_valuesHalf.AsSpan(b * Capacity * valueWidth, Length * valueWidth), wideValues.AsSpan(b * Length * valueWidth, Length * valueWidth));
                }
            }

            fixed (float* q = query, o = output, k = wideKeys ?? _keys, v = wideValues ?? _values)
            fixed (Half* kh = _keysHalf, vh = _valuesHalf)
            {
                int rowsPerBatch = wideKeys is null ? Capacity : Length;
                bool keepsFloat = Storage == KvCacheStorage.Single || !inPlace;
                var problem = AttentionProblem.Create(q, heads * HeadDim, keepsFloat ? k : null, keyWidth, keepsFloat ? v : null, valueWidth,
                                                      o, heads * ValueDim, Batch, heads, KvHeads, queryLength, Length,
                                                      keyRowsPerBatch: rowsPerBatch, HeadDim, ValueDim, scale, options)
                    with { KeyHalf = keepsFloat ? null : kh, ValueHalf = keepsFloat ? null : vh };
                KernelDispatch.Run(problem, options.Kernel, options.MaxDegreeOfParallelism);
            }
        }
        finally
        {
            if (wideKeys is not null) ArrayPool<float>.Shared.Return(wideKeys);
            if (wideValues is not null) ArrayPool<float>.Shared.Return(wideValues);
        }
    }
}
