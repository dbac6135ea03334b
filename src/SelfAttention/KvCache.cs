using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
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
    /// <exception cref="ArgumentException">A size is out of range or the buffers would not fit in an array.</exception>
    public KvCache(int capacity, int kvHeads, int headDim, int valueDim = 0, int batch = 1, KvCacheStorage storage = KvCacheStorage.Single)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(kvHeads, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(headDim, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(valueDim);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        if (storage is not (KvCacheStorage.Single or KvCacheStorage.Half))
        {
            throw new ArgumentOutOfRangeException(nameof(storage), storage, $"storage: expected Single or Half, actual {(int)storage}.");
        }

        Capacity = capacity;
        KvHeads = kvHeads;
        HeadDim = headDim;
        ValueDim = valueDim == 0 ? headDim : valueDim;
        Batch = batch;
        Storage = storage;
        int keyElements = (int)AttentionValidation.CheckedProduct(nameof(capacity), "batch·capacity·kvHeads·headDim", batch, capacity, kvHeads, headDim);
        int valueElements = (int)AttentionValidation.CheckedProduct(nameof(capacity), "batch·capacity·kvHeads·valueDim", batch, capacity, kvHeads, ValueDim);
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
            throw new ArgumentOutOfRangeException(nameof(length), length, $"length: expected 0 to {Length} (the cached length), actual {length}.");
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
        if (tokenCount < 0) ThrowHelper.ThrowNegative(nameof(tokenCount), "tokenCount", tokenCount);
        if (tokenCount > Capacity - Length)
        {
            throw new ArgumentException($"tokenCount: expected at most {Capacity - Length} (capacity {Capacity} − length {Length}), actual {tokenCount}.", nameof(tokenCount));
        }

        int keyWidth = KvHeads * HeadDim, valueWidth = KvHeads * ValueDim;
        long expectedKeys = (long)Batch * tokenCount * keyWidth, expectedValues = (long)Batch * tokenCount * valueWidth;
        if (keys.Length != expectedKeys) ThrowHelper.ThrowSizeMismatch(nameof(keys), "keys length (Batch·tokenCount·KvHeads·HeadDim)", expectedKeys, keys.Length);
        if (values.Length != expectedValues) ThrowHelper.ThrowSizeMismatch(nameof(values), "values length (Batch·tokenCount·KvHeads·ValueDim)", expectedValues, values.Length);

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
    /// tokens. Append the new tokens' keys and values first.
    /// </summary>
    /// <param name="query"><c>[Batch, queryLength, heads·HeadDim]</c>.</param>
    /// <param name="output">Receives <c>[Batch, queryLength, heads·ValueDim]</c>; must not overlap the query.</param>
    /// <param name="heads">Query heads; a multiple of <see cref="KvHeads"/>.</param>
    /// <param name="queryLength">New query rows per batch entry; at least 0.</param>
    /// <param name="options">As for <see cref="Attention"/>.</param>
    /// <exception cref="ArgumentException">A length does not match, heads is not a multiple of KvHeads, or an option is out of range.</exception>
    public void Attend(ReadOnlySpan<float> query, Span<float> output, int heads, int queryLength, AttentionOptions options = default)
    {
        var shape = new AttentionShape(Batch, queryLength, Length, heads, HeadDim) { KvHeads = KvHeads, ValueDim = ValueDim };
        if (queryLength < 0) ThrowHelper.ThrowNegative(nameof(queryLength), "queryLength", queryLength);
        if (heads < 1) ThrowHelper.ThrowNotPositive(nameof(heads), "heads", heads);
        if (heads % KvHeads != 0) ThrowHelper.ThrowHeadsNotMultiple(heads, KvHeads);
        float scale = AttentionValidation.ValidateOptions(options, HeadDim);
        long queryElements = AttentionValidation.CheckedProduct(nameof(query), "query (Batch·queryLength·heads·HeadDim)", Batch, queryLength, heads, HeadDim);
        long outputElements = AttentionValidation.CheckedProduct(nameof(output), "output (Batch·queryLength·heads·ValueDim)", Batch, queryLength, heads, ValueDim);
        if (query.Length != queryElements) ThrowHelper.ThrowSizeMismatch(nameof(query), "query length (Batch·queryLength·heads·HeadDim)", queryElements, query.Length);
        if (output.Length != outputElements) ThrowHelper.ThrowSizeMismatch(nameof(output), "output length (Batch·queryLength·heads·ValueDim)", outputElements, output.Length);
        AttentionValidation.CheckNoOverlap(MemoryMarshal.AsBytes((ReadOnlySpan<float>)output), MemoryMarshal.AsBytes(query), nameof(output), nameof(query));

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
                var problem = new AttentionProblem
                {
                    Query = q, Output = o, Key = Storage == KvCacheStorage.Single || !inPlace ? k : null, Value = Storage == KvCacheStorage.Single || !inPlace ? v : null,
                    KeyHalf = inPlace && Storage == KvCacheStorage.Half ? kh : null, ValueHalf = inPlace && Storage == KvCacheStorage.Half ? vh : null,
                    QueryRowStride = heads * HeadDim, KeyRowStride = keyWidth, ValueRowStride = valueWidth, OutputRowStride = heads * ValueDim,
                    QueryBatchStride = (nint)queryLength * heads * HeadDim, KeyBatchStride = (nint)rowsPerBatch * keyWidth,
                    ValueBatchStride = (nint)rowsPerBatch * valueWidth, OutputBatchStride = (nint)queryLength * heads * ValueDim,
                    Batch = Batch, Heads = heads, GroupSize = heads / KvHeads, QueryLength = queryLength, KeyLength = Length,
                    HeadDim = HeadDim, ValueDim = ValueDim, Scale = scale, IsCausal = options.IsCausal, Normalization = options.Normalization,
                };
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
