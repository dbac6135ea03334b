using System.Buffers;
using System.Globalization;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using SelfAttention.Internal;
using SelfAttention.Kernels;
using SelfAttention.Kernels.Masks;

namespace SelfAttention;

/// <summary>
/// The keys and values of every token seen so far in one attention layer, for generating one token at a time: append
/// the new tokens' keys and values, then let the new queries attend to everything cached. Capacity is fixed at
/// construction; nothing is allocated per call.
/// <para>
/// Layout per batch entry: keys <c>[Capacity, KvHeads·HeadDim]</c> and values <c>[Capacity, KvHeads·ValueDim]</c>,
/// row-major, the first <see cref="SequenceLength"/> rows in use (Int8 storage adds one float scale per 32 values of a
/// head's row). Each batch entry is a sequence with its own length: <see cref="Append(ReadOnlySpan{float}, ReadOnlySpan{float}, int)"/>
/// appends to every sequence at its own end, <see cref="Append(int, ReadOnlySpan{float}, ReadOnlySpan{float}, int)"/>
/// to one, and <see cref="Attend(ReadOnlySpan{float}, Span{float}, int, int, AttentionOptions)"/> serves every sequence against its own length (a chat service's batch of
/// conversations: the work is proportional to the real lengths, and the rows past a sequence's length are never read).
/// </para>
/// <para>
/// Attention steps with at most <c>8</c> new query rows (decoding, speculative decoding, chunked prefill) read the
/// cache in place, in memory order, widening low-precision storage a few rows at a time into L1; longer ones (a
/// prompt's prefill) go through the tiled kernel, which reads float, so for a low-precision cache the stored prefix
/// is first widened to float in a pooled buffer (O(n·d) beside O(n²·d) work).
/// </para>
/// Not thread-safe: one sequence of calls at a time.
/// </summary>
public sealed unsafe class KvCache
{
    private readonly float[] _keys = [], _values = [];
    private readonly ushort[] _keys16 = [], _values16 = [];
    private readonly sbyte[] _keys8 = [], _values8 = [];
    private readonly float[] _keyScales = [], _valueScales = [];
    private readonly int[] _lengths;

    // Half storage: whether a stored value may be ±∞ or NaN (a float beyond ±65504 rounds to ∞). While it is not, the
    // decode kernels widen with the four-operation finite path; it is forgotten when the cache is empty again (Length's setter).
    private bool _storesNonFinite;
    private int _length;

    /// <summary>Creates an empty cache.</summary>
    /// <param name="capacity">Most tokens each sequence holds; at least 1.</param>
    /// <param name="kvHeads">Key/value heads; at least 1.</param>
    /// <param name="headDim">Width of a key head; at least 1.</param>
    /// <param name="valueDim">Width of a value head; 0 means <paramref name="headDim"/>.</param>
    /// <param name="batch">Independent sequences, each with its own length; at least 1.</param>
    /// <param name="storage">The element type of the stored keys and values.</param>
    /// <exception cref="ArgumentException">A size is out of range (naming it), <paramref name="storage"/> is undefined, or the keys or values would exceed <see cref="Array.MaxLength"/> elements.</exception>
    public KvCache(int capacity, int kvHeads, int headDim, int valueDim = 0, int batch = 1, KvCacheStorage storage = KvCacheStorage.Single)
    {
        if (capacity < 1) ThrowHelper.ThrowNotPositive(nameof(capacity), nameof(capacity), capacity);
        if (kvHeads < 1) ThrowHelper.ThrowNotPositive(nameof(kvHeads), nameof(kvHeads), kvHeads);
        if (headDim < 1) ThrowHelper.ThrowNotPositive(nameof(headDim), nameof(headDim), headDim);
        if (valueDim < 0) ThrowHelper.ThrowNegative(nameof(valueDim), nameof(valueDim), valueDim);
        if (batch < 1) ThrowHelper.ThrowNotPositive(nameof(batch), nameof(batch), batch);
        if (storage is not (KvCacheStorage.Single or KvCacheStorage.Half or KvCacheStorage.BFloat16 or KvCacheStorage.Int8))
        {
            throw new ArgumentOutOfRangeException(nameof(storage), storage,
                string.Create(CultureInfo.InvariantCulture, $"storage: expected Single (0), Half (1), BFloat16 (2) or Int8 (3), actual {(int)storage}."));
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
        _lengths = new int[batch];
        switch (storage)
        {
            case KvCacheStorage.Single:
                _keys = new float[keyElements];
                _values = new float[valueElements];
                break;
            case KvCacheStorage.Half or KvCacheStorage.BFloat16:
                _keys16 = new ushort[keyElements];
                _values16 = new ushort[valueElements];
                break;
            default:
                // Scales: at most one per value, so they fit wherever the values do.
                _keys8 = new sbyte[keyElements];
                _values8 = new sbyte[valueElements];
                _keyScales = new float[(long)batch * capacity * kvHeads * Widen.Int8Blocks(headDim)];
                _valueScales = new float[(long)batch * capacity * kvHeads * Widen.Int8Blocks(dv)];
                break;
        }
    }

    /// <summary>Most tokens each sequence holds.</summary>
    public int Capacity { get; }

    /// <summary>
    /// Tokens cached now: the longest sequence's length, which is every sequence's as long as all are appended to
    /// together (see <see cref="SequenceLength"/>).
    /// </summary>
    public int Length
    {
        get => _length;
        private set
        {
            _length = value;
            _storesNonFinite &= value > 0;   // an empty cache holds nothing non-finite
        }
    }

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

    /// <summary>Tokens cached now in sequence <paramref name="batchIndex"/>.</summary>
    /// <param name="batchIndex">The sequence; from 0 to <see cref="Batch"/> − 1.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchIndex"/> is out of range.</exception>
    public int SequenceLength(int batchIndex)
    {
        CheckBatchIndex(batchIndex);
        return _lengths[batchIndex];
    }

    /// <summary>
    /// The stored bytes that a decode step reads for batch entry <paramref name="batchIndex"/>'s first
    /// <paramref name="length"/> tokens, as (array, byte offset, byte length) runs: keys, values and any scales. For the
    /// benchmarks' plain-read controls, which read exactly these bytes in the same rounds as the kernel.
    /// </summary>
    internal int StoredRuns(int batchIndex, int length, Span<(Array Array, int ByteOffset, int ByteLength)> runs)
    {
        int keyWidth = KvHeads * HeadDim, valueWidth = KvHeads * ValueDim;
        int keyAt = batchIndex * Capacity * keyWidth, valueAt = batchIndex * Capacity * valueWidth;
        switch (Storage)
        {
            case KvCacheStorage.Single:
                runs[0] = (_keys, keyAt * sizeof(float), length * keyWidth * sizeof(float));
                runs[1] = (_values, valueAt * sizeof(float), length * valueWidth * sizeof(float));
                return 2;
            case KvCacheStorage.Half or KvCacheStorage.BFloat16:
                runs[0] = (_keys16, keyAt * 2, length * keyWidth * 2);
                runs[1] = (_values16, valueAt * 2, length * valueWidth * 2);
                return 2;
            default:
                int keyScales = KvHeads * Widen.Int8Blocks(HeadDim), valueScales = KvHeads * Widen.Int8Blocks(ValueDim);
                runs[0] = (_keys8, keyAt, length * keyWidth);
                runs[1] = (_values8, valueAt, length * valueWidth);
                runs[2] = (_keyScales, batchIndex * Capacity * keyScales * sizeof(float), length * keyScales * sizeof(float));
                runs[3] = (_valueScales, batchIndex * Capacity * valueScales * sizeof(float), length * valueScales * sizeof(float));
                return 4;
        }
    }

    /// <summary>
    /// Sequence <paramref name="batchIndex"/>'s first <paramref name="length"/> stored keys and values as the kernels
    /// read them (widened to float), into <c>[length, KvHeads·HeadDim]</c> and <c>[length, KvHeads·ValueDim]</c>: what
    /// tests compare the kernels and the storage error against.
    /// </summary>
    internal void CopyStored(int batchIndex, int length, Span<float> keys, Span<float> values)
    {
        int keyCount = length * KvHeads * HeadDim, valueCount = length * KvHeads * ValueDim;
        if (Storage == KvCacheStorage.Single)
        {
            _keys.AsSpan(batchIndex * Capacity * KvHeads * HeadDim, keyCount).CopyTo(keys);
            _values.AsSpan(batchIndex * Capacity * KvHeads * ValueDim, valueCount).CopyTo(values);
            return;
        }

        WidenPrefix(batchIndex, key: true, keys[..keyCount]);
        WidenPrefix(batchIndex, key: false, values[..valueCount]);
    }

    /// <summary>Forgets every cached token of every sequence; the memory is kept.</summary>
    public void Clear()
    {
        Array.Clear(_lengths);
        Length = 0;
    }

    /// <summary>
    /// Keeps the first <paramref name="length"/> tokens of every sequence and forgets the rest (to rewind a
    /// generation); a shorter sequence keeps all of its tokens.
    /// </summary>
    /// <param name="length">Tokens to keep; from 0 to <see cref="Length"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is negative or above <see cref="Length"/>.</exception>
    public void Truncate(int length)
    {
        if ((uint)length > (uint)Length)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length,
                string.Create(CultureInfo.InvariantCulture, $"length: expected 0 to {Length} (the cached length), actual {length}."));
        }

        for (int b = 0; b < Batch; b++)
        {
            _lengths[b] = Math.Min(_lengths[b], length);
        }

        Length = length;
    }

    /// <summary>Keeps the first <paramref name="length"/> tokens of sequence <paramref name="batchIndex"/> (0: a new conversation in that slot); the other sequences are untouched.</summary>
    /// <param name="batchIndex">The sequence; from 0 to <see cref="Batch"/> − 1.</param>
    /// <param name="length">Tokens to keep; from 0 to <see cref="SequenceLength"/>(<paramref name="batchIndex"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range (naming it).</exception>
    public void Truncate(int batchIndex, int length)
    {
        CheckBatchIndex(batchIndex);
        if ((uint)length > (uint)_lengths[batchIndex])
        {
            throw new ArgumentOutOfRangeException(nameof(length), length,
                string.Create(CultureInfo.InvariantCulture, $"length: expected 0 to {_lengths[batchIndex]} (sequence {batchIndex}'s length), actual {length}."));
        }

        _lengths[batchIndex] = length;
        UpdateLength();
    }

    /// <summary>Appends the keys and values of <paramref name="tokenCount"/> new tokens to every sequence, each at its own end.</summary>
    /// <param name="keys"><c>[Batch, tokenCount, KvHeads·HeadDim]</c>.</param>
    /// <param name="values"><c>[Batch, tokenCount, KvHeads·ValueDim]</c>.</param>
    /// <param name="tokenCount">New tokens per sequence; at least 0.</param>
    /// <exception cref="ArgumentException">The lengths do not match, or the tokens do not fit in the longest sequence's remaining capacity; nothing is appended.</exception>
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
            Store(b, keys.Slice(b * tokenCount * keyWidth, tokenCount * keyWidth), values.Slice(b * tokenCount * valueWidth, tokenCount * valueWidth), tokenCount);
        }

        UpdateLength();
    }

    /// <summary>Appends the keys and values of <paramref name="tokenCount"/> new tokens to sequence <paramref name="batchIndex"/> only; no other sequence's rows are touched.</summary>
    /// <param name="batchIndex">The sequence; from 0 to <see cref="Batch"/> − 1.</param>
    /// <param name="keys"><c>[tokenCount, KvHeads·HeadDim]</c>.</param>
    /// <param name="values"><c>[tokenCount, KvHeads·ValueDim]</c>.</param>
    /// <param name="tokenCount">New tokens; at least 0.</param>
    /// <exception cref="ArgumentException">An argument is out of range or a length does not match (naming it), or the tokens do not fit in the sequence's remaining capacity; nothing is appended.</exception>
    public void Append(int batchIndex, ReadOnlySpan<float> keys, ReadOnlySpan<float> values, int tokenCount)
    {
        CheckBatchIndex(batchIndex);
        if (tokenCount < 0) ThrowHelper.ThrowNegative(nameof(tokenCount), nameof(tokenCount), tokenCount);
        int free = Capacity - _lengths[batchIndex];
        if (tokenCount > free)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"tokenCount: expected at most {free} (capacity {Capacity} − sequence {batchIndex}'s length {_lengths[batchIndex]}), actual {tokenCount}."), nameof(tokenCount));
        }

        int keyWidth = KvHeads * HeadDim, valueWidth = KvHeads * ValueDim;
        long expectedKeys = (long)tokenCount * keyWidth, expectedValues = (long)tokenCount * valueWidth;
        if (keys.Length != expectedKeys) ThrowHelper.ThrowSizeMismatch(nameof(keys), "keys length (tokenCount·KvHeads·HeadDim)", expectedKeys, keys.Length);
        if (values.Length != expectedValues) ThrowHelper.ThrowSizeMismatch(nameof(values), "values length (tokenCount·KvHeads·ValueDim)", expectedValues, values.Length);
        if (tokenCount == 0)
        {
            return;
        }

        Store(batchIndex, keys, values, tokenCount);
        UpdateLength();
    }

    private void CheckBatchIndex(int batchIndex)
    {
        if ((uint)batchIndex >= (uint)Batch)
        {
            throw new ArgumentOutOfRangeException(nameof(batchIndex), batchIndex,
                string.Create(CultureInfo.InvariantCulture, $"batchIndex: expected 0 to {Batch - 1}, actual {batchIndex}."));
        }
    }

    private void UpdateLength()
    {
        int longest = 0;
        foreach (int length in _lengths)
        {
            longest = Math.Max(longest, length);
        }

        Length = longest;
    }

    /// <summary>Writes validated rows at the end of sequence b, in its storage, and moves its length on.</summary>
    private void Store(int b, ReadOnlySpan<float> k, ReadOnlySpan<float> v, int tokenCount)
    {
        int keyWidth = KvHeads * HeadDim, valueWidth = KvHeads * ValueDim;
        int row = b * Capacity + _lengths[b];
        int keyAt = row * keyWidth, valueAt = row * valueWidth;
        switch (Storage)
        {
            case KvCacheStorage.Single:
                k.CopyTo(_keys.AsSpan(keyAt));
                v.CopyTo(_values.AsSpan(valueAt));
                break;
            case KvCacheStorage.Half:
                TensorPrimitives.ConvertToHalf(k, MemoryMarshal.Cast<ushort, Half>(_keys16.AsSpan(keyAt, k.Length)));
                TensorPrimitives.ConvertToHalf(v, MemoryMarshal.Cast<ushort, Half>(_values16.AsSpan(valueAt, v.Length)));
                _storesNonFinite |= Widen.AnyNonFiniteHalf(_keys16.AsSpan(keyAt, k.Length)) || Widen.AnyNonFiniteHalf(_values16.AsSpan(valueAt, v.Length));
                break;
            case KvCacheStorage.BFloat16:
                ToBFloat16(k, _keys16.AsSpan(keyAt, k.Length));
                ToBFloat16(v, _values16.AsSpan(valueAt, v.Length));
                break;
            default:
                Quantize(k, HeadDim, _keys8.AsSpan(keyAt, k.Length), _keyScales.AsSpan(row * KvHeads * Widen.Int8Blocks(HeadDim)));
                Quantize(v, ValueDim, _values8.AsSpan(valueAt, v.Length), _valueScales.AsSpan(row * KvHeads * Widen.Int8Blocks(ValueDim)));
                break;
        }

        _lengths[b] += tokenCount;
    }

    /// <summary>Rounds to bfloat16, to nearest even; NaN stays NaN (quiet).</summary>
    private static void ToBFloat16(ReadOnlySpan<float> source, Span<ushort> destination)
    {
        for (int c = 0; c < source.Length; c++)
        {
            uint bits = BitConverter.SingleToUInt32Bits(source[c]);
            destination[c] = float.IsNaN(source[c]) ? (ushort)((bits >> 16) | 0x40) : (ushort)((bits + 0x7FFFu + ((bits >> 16) & 1)) >> 16);
        }
    }

    /// <summary>
    /// Symmetric Int8 per block of <see cref="Widen.Int8Block"/> values of each head's row (width values): scale =
    /// max|x| / 127, q = round(x / scale). source: [rows, heads·width]; scales: [rows, heads·blocks].
    /// </summary>
    private static void Quantize(ReadOnlySpan<float> source, int width, Span<sbyte> destination, Span<float> scales)
    {
        int s = 0;
        for (int head = 0; head < source.Length; head += width)
        {
            for (int c0 = 0; c0 < width; c0 += Widen.Int8Block, s++)
            {
                ReadOnlySpan<float> block = source.Slice(head + c0, Math.Min(Widen.Int8Block, width - c0));
                float max = 0;
                foreach (float x in block)
                {
                    max = float.IsNaN(x) ? float.NaN : Math.Max(max, Math.Abs(x));
                    if (float.IsNaN(max))
                    {
                        break;
                    }
                }

                float scale = max / 127f, inverse = max == 0 ? 0 : 127f / max;
                scales[s] = scale;
                for (int c = 0; c < block.Length; c++)
                {
                    float q = MathF.Round(block[c] * inverse);
                    destination[head + c0 + c] = float.IsNaN(q) ? (sbyte)0 : (sbyte)Math.Clamp(q, -127f, 127f);
                }
            }
        }
    }

    /// <summary>
    /// Attention of <paramref name="queryLength"/> new query rows per batch entry against every token cached for that
    /// sequence: the queries are the last <paramref name="queryLength"/> positions of each sequence, so with
    /// <see cref="AttentionOptions.IsCausal"/> (bottom-right) query row i of sequence b sees the first
    /// <c>SequenceLength(b) − queryLength + i + 1</c> tokens. A <see cref="AttentionOptions.Window"/> is aligned the same
    /// way (row i sits at token <c>SequenceLength(b) − queryLength + i</c>), so a window of <c>(w, 0)</c> with causal sees
    /// the last <c>w + 1</c> tokens, and the tokens outside it are not read. Sequences of different lengths are served in
    /// the one call, each against its own length (a sequence with no token gets zeros); the work is proportional to
    /// the real lengths. Append the new tokens' keys and values first.
    /// </summary>
    /// <param name="query"><c>[Batch, queryLength, heads·HeadDim]</c>.</param>
    /// <param name="output">Receives <c>[Batch, queryLength, heads·ValueDim]</c>; must not overlap the query.</param>
    /// <param name="heads">Query heads; a multiple of <see cref="KvHeads"/>.</param>
    /// <param name="queryLength">New query rows per batch entry; at least 0. With no cached token every row gets 0.</param>
    /// <param name="options">As for <see cref="Attention"/>.</param>
    /// <exception cref="ArgumentException">A length does not match or overflows, <paramref name="heads"/> is not a positive multiple of <see cref="KvHeads"/>, the output overlaps the query, or an option is out of range; nothing is written.</exception>
    public void Attend(ReadOnlySpan<float> query, Span<float> output, int heads, int queryLength, AttentionOptions options = default) =>
        Attend(query, output, heads, queryLength, hasModifiers: false, default, options, new NoMask(Length));

    /// <summary>
    /// <see cref="Attend(ReadOnlySpan{float}, Span{float}, int, int, AttentionOptions)"/> with <paramref name="modifiers"/>
    /// (see <see cref="AttentionModifiers"/>): ALiBi slopes and sinks per query head, each row's log-sum-exp, a dense
    /// mask. The key length of sequence b is the tokens cached for it, <c>SequenceLength(b)</c>, and its queries are its
    /// last <paramref name="queryLength"/> positions, so ALiBi adds <c>−slope_h·|i + SequenceLength(b) − queryLength − j|</c>
    /// (0 for the newest token's query on itself). A dense mask is laid out over <c>[Batch, heads, queryLength, Length]</c>
    /// (the default strides: one <c>[queryLength, Length]</c> mask shared by every sequence and head); a sequence's keys
    /// past its own length are never read. The log-sum-exp is <c>[Batch, heads, queryLength]</c>; with no cached token a
    /// row's is its sink's, or −∞.
    /// </summary>
    /// <param name="query"><c>[Batch, queryLength, heads·HeadDim]</c>.</param>
    /// <param name="output">Receives <c>[Batch, queryLength, heads·ValueDim]</c>; must not overlap the query.</param>
    /// <param name="heads">Query heads; a multiple of <see cref="KvHeads"/>.</param>
    /// <param name="queryLength">New query rows per batch entry; at least 0.</param>
    /// <param name="modifiers">ALiBi slopes and sinks (<c>[heads]</c>), log-sum-exp output, boolean or additive mask; empty members are none.</param>
    /// <param name="options">As for <see cref="Attention"/>.</param>
    /// <exception cref="ArgumentException">As for the overload without modifiers, or a modifier is invalid (parameter <c>modifiers</c>: a per-head span not <paramref name="heads"/> long or not finite, a log-sum-exp of the wrong length or overlapping the query or output, a mask too short for its strides, both masks, or a modifier that needs softmax); nothing is written.</exception>
    public void Attend(ReadOnlySpan<float> query, Span<float> output, int heads, int queryLength, AttentionModifiers modifiers, AttentionOptions options = default) =>
        Attend(query, output, heads, queryLength, hasModifiers: true, modifiers, options, new NoMask(Length));

    /// <summary>
    /// <see cref="Attend(ReadOnlySpan{float}, Span{float}, int, int, AttentionModifiers, AttentionOptions)"/> under a
    /// modifier of your own, <paramref name="modifier"/> (see <see cref="IAttentionModifier{TSelf}"/>), asked with the
    /// sequence, the query head, the new query row (<c>0 ≤ i &lt; queryLength</c>, at token position
    /// <c>SequenceLength(b) − queryLength + i</c>) and the cached token <c>j &lt; SequenceLength(b)</c>. The decode kernels
    /// run it at every storage, one pass over the cache as without it.
    /// </summary>
    /// <typeparam name="TModifier">Your modifier struct.</typeparam>
    /// <param name="query"><c>[Batch, queryLength, heads·HeadDim]</c>.</param>
    /// <param name="output">Receives <c>[Batch, queryLength, heads·ValueDim]</c>; must not overlap the query.</param>
    /// <param name="heads">Query heads; a multiple of <see cref="KvHeads"/>.</param>
    /// <param name="queryLength">New query rows per batch entry; at least 0.</param>
    /// <param name="modifier">Your modifier; read in place for the duration of the call.</param>
    /// <param name="modifiers">ALiBi slopes and sinks, log-sum-exp output, boolean or additive mask; <c>default</c> for none.</param>
    /// <param name="options">As for <see cref="Attention"/>.</param>
    /// <exception cref="ArgumentException">As for the overload without <paramref name="modifier"/>, or the modifier changes scores
    /// and the normalisation is not softmax (parameter <c>modifier</c>); nothing is written.</exception>
    public void Attend<TModifier>(ReadOnlySpan<float> query, Span<float> output, int heads, int queryLength, TModifier modifier,
                                  AttentionModifiers modifiers, AttentionOptions options = default)
        where TModifier : struct, IAttentionModifier<TModifier>
    {
        ModifierValidation.ValidateUser<TModifier>(options);
        Attend(query, output, heads, queryLength, hasModifiers: true, modifiers, options, UserMask<TModifier>.Create(ref modifier, Length));
    }

    // user: the user's modifier (NoMask: none), over the cache's Length keys.
    private void Attend<TUser>(ReadOnlySpan<float> query, Span<float> output, int heads, int queryLength, bool hasModifiers,
                               in AttentionModifiers modifiers, AttentionOptions options, TUser user)
        where TUser : unmanaged, IAttentionMask<TUser>
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
        var layout = hasModifiers
            ? ModifierValidation.Validate(modifiers, Batch, heads, queryLength, Length, options, MemoryExtent.Of((ReadOnlySpan<float>)output),
                                          MemoryExtent.Of(query), default, default)
            : default;

        if (queryLength == 0)
        {
            return; // nothing to write; in particular no widening of a low-precision cache
        }

        if (Length == 0)
        {
            output.Clear(); // no cached key: every query row sees none and gets 0
            if (!modifiers.LogSumExp.IsEmpty)
            {
                // Each row's denominator is its sink alone, or nothing.
                for (int r = 0; r < modifiers.LogSumExp.Length; r++)
                {
                    modifiers.LogSumExp[r] = modifiers.Sinks.IsEmpty ? float.NegativeInfinity : modifiers.Sinks[r / queryLength % heads];
                }
            }

            return;
        }

        // One query row at the end of its sequence sees every cached token: causal hides nothing there, so the
        // kernels run unmasked (per-sequence lengths still bound each sequence).
        if (queryLength == 1 && options.Window is null && options.CausalAlignment == CausalAlignment.BottomRight)
        {
            options = options with { IsCausal = false };
        }

        int keyWidth = KvHeads * HeadDim, valueWidth = KvHeads * ValueDim;
        bool inPlace = Storage == KvCacheStorage.Single || DecodeAttention.ServesInPlace(queryLength, options);
        bool ragged = false;
        foreach (int length in _lengths)
        {
            ragged |= length != Length;
        }

        float[]? wideKeys = null, wideValues = null;
        try
        {
            if (!inPlace)
            {
                // Prefill from low-precision storage: the tiled kernel reads float, so widen each sequence's cached
                // prefix once (pooled), then run as float.
                wideKeys = ArrayPool<float>.Shared.Rent(Batch * Length * keyWidth);
                wideValues = ArrayPool<float>.Shared.Rent(Batch * Length * valueWidth);
                for (int b = 0; b < Batch; b++)
                {
                    WidenPrefix(b, key: true, wideKeys.AsSpan(b * Length * keyWidth, _lengths[b] * keyWidth));
                    WidenPrefix(b, key: false, wideValues.AsSpan(b * Length * valueWidth, _lengths[b] * valueWidth));
                }
            }

            fixed (float* q = query, o = output, k = wideKeys ?? _keys, v = wideValues ?? _values)
            fixed (ushort* k16 = _keys16, v16 = _values16)
            fixed (sbyte* k8 = _keys8, v8 = _values8)
            fixed (float* kScales = _keyScales, vScales = _valueScales)
            fixed (int* lengths = _lengths)
            {
                int rowsPerBatch = wideKeys is null ? Capacity : Length;
                bool keepsFloat = Storage == KvCacheStorage.Single || !inPlace;
                var problem = AttentionProblem.Create(q, heads * HeadDim, keepsFloat ? k : null, keyWidth, keepsFloat ? v : null, valueWidth,
                                                      o, heads * ValueDim, Batch, heads, KvHeads, queryLength, Length,
                                                      keyRowsPerBatch: rowsPerBatch, HeadDim, ValueDim, scale, options)
                    with
                    {
                        KeyLengths = ragged ? lengths : null,
                        Storage = keepsFloat ? KvCacheStorage.Single : Storage,
                        StoredFinite = !keepsFloat && Storage == KvCacheStorage.Half && !_storesNonFinite,
                        KeyStored = keepsFloat ? null : Storage == KvCacheStorage.Int8 ? k8 : k16,
                        ValueStored = keepsFloat ? null : Storage == KvCacheStorage.Int8 ? v8 : v16,
                        KeyScales = keepsFloat ? null : kScales,
                        ValueScales = keepsFloat ? null : vScales,
                    };
                if (hasModifiers)
                {
                    fixed (float* slopes = modifiers.AlibiSlopes, sinks = modifiers.Sinks, lse = modifiers.LogSumExp, additive = modifiers.AdditiveMask)
                    fixed (bool* boolean = modifiers.BooleanMask)
                    {
                        problem = problem with
                        {
                            AlibiSlopes = slopes, Sinks = sinks, LogSumExp = lse, AdditiveMask = additive, BooleanMask = (byte*)boolean, DenseMask = layout,
                        };
                        KernelDispatch.RunWithUser(problem, user, options.Kernel, options.MaxDegreeOfParallelism);
                    }
                }
                else
                {
                    KernelDispatch.RunWithUser(problem, user, options.Kernel, options.MaxDegreeOfParallelism);
                }
            }
        }
        finally
        {
            if (wideKeys is not null) ArrayPool<float>.Shared.Return(wideKeys);
            if (wideValues is not null) ArrayPool<float>.Shared.Return(wideValues);
        }
    }

    /// <summary>Widens sequence b's stored keys (or values), <c>destination.Length</c> elements from its first row, to float.</summary>
    private void WidenPrefix(int b, bool key, Span<float> destination)
    {
        int width = key ? HeadDim : ValueDim, rowWidth = KvHeads * width, at = b * Capacity * rowWidth;
        fixed (float* d = destination)
        {
            switch (Storage)
            {
                case KvCacheStorage.Half:
                    fixed (ushort* s = key ? _keys16 : _values16) Widen.Half(s + at, destination.Length, d);
                    break;
                case KvCacheStorage.BFloat16:
                    fixed (ushort* s = key ? _keys16 : _values16) Widen.BFloat16(s + at, destination.Length, d);
                    break;
                default:
                    int blocks = Widen.Int8Blocks(width);
                    fixed (sbyte* s = key ? _keys8 : _values8)
                    fixed (float* scales = key ? _keyScales : _valueScales)
                    {
                        // One head's row at a time: its scales are its own.
                        for (int e = 0, head = b * Capacity * KvHeads; e < destination.Length; e += width, head++)
                        {
                            Widen.Int8(s + at + e, scales + (nint)head * blocks, width, d + e);
                        }
                    }

                    break;
            }
        }
    }
}
