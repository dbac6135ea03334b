using CommunityToolkit.HighPerformance;

namespace SelfAttention;

/// <summary>
/// Pays the library's one-time start-up costs (compiling the kernels for this machine's vector width) when a service
/// chooses, at start-up, instead of inside its first user's request.
/// </summary>
/// <remarks>
/// <para>
/// The kernels are compiled fully optimised on their first call (they are marked for aggressive optimisation, so the
/// tiered JIT's slow first tier never runs them), but that compilation still costs tens of milliseconds, spread over
/// the first call of each kernel path. <see cref="Run"/> sends a few tiny problems through every path: the tiled,
/// decode and row-by-row kernels (unmasked, causal, windowed and with per-sequence lengths, in every combination;
/// softmax and sum; with and without the weights output; softcap, ALiBi, additive and boolean masks, sinks and the
/// log-sum-exp output, alone and in the common combinations), the
/// 128-bit path of tiny shapes, Half and float <see cref="KvCache"/> decoding and prefill, the
/// <see cref="MultiHeadAttention"/> projections, and <see cref="AttentionPrimitives"/>. After it, a call of any shape
/// runs at its steady-state speed from the first time.
/// </para>
/// <para>
/// The first call allocates about 200 KB (its small inputs and the kernels' scratch, kept for later calls; with a degree above 1, also the
/// worker threads) and compiles; each later call reruns the same problems, in about a millisecond or less, and
/// allocates nothing. Calls from several threads are serialised. The library's results are the same with or without it.
/// </para>
/// <code>
/// // At service start-up, before taking traffic:
/// AttentionWarmup.Run();
/// </code>
/// </remarks>
public static class AttentionWarmup
{
    private static readonly object s_gate = new();
    private static Workload? s_workload;

    /// <summary>Runs tiny problems through every kernel path at this machine's vector width, so that each is compiled now.</summary>
    /// <param name="maxDegreeOfParallelism">
    /// As <see cref="AttentionOptions.MaxDegreeOfParallelism"/>: 0 or 1 warms the calling thread's paths only (the
    /// default); more, or −1 for every processor, also starts the worker threads that parallel calls use.
    /// </param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxDegreeOfParallelism"/> is less than −1.</exception>
    public static void Run(int maxDegreeOfParallelism = 1)
    {
        if (maxDegreeOfParallelism < -1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxDegreeOfParallelism), maxDegreeOfParallelism,
                $"maxDegreeOfParallelism: expected −1 (every processor) or at least 0, actual {maxDegreeOfParallelism}.");
        }

        lock (s_gate)
        {
            (s_workload ??= new Workload()).Run(maxDegreeOfParallelism);
        }
    }

    /// <summary>
    /// The warm-up's problems and their buffers, created once. Sizes are chosen for the paths they reach at any width:
    /// 40 query rows fill a tiled query block at every width; 70 keys make a full decode key block of 64 plus a tail;
    /// a value width of 9 takes the tiled kernel's 6-, 2- and 1-channel tiles; a head width of 16 is a whole number of
    /// vectors at every width (the decode kernel's eight-row path); head widths below 8 with fewer than 8 keys take the
    /// 128-bit path of tiny shapes; 7 projected rows take the packed GEMM's 6-row and 1-row tiles, 1 row its streaming path.
    /// </summary>
    private sealed class Workload
    {
        private const int QueryLength = 40, KeyLength = 70, Heads = 4, KvHeads = 2, HeadDim = 16, ValueDim = 9;
        private const int TinyQueries = 8, TinyKeys = 3, TinyDim = 4;
        private const int ModelDim = 32, LayerHeads = 2, LayerTokens = 7;

        // Query rows of the decode problems (one generated token; up to the decode kernel's limit of 4 runs the same
        // code), and of the Half prefill: past that limit, so the cache widens its prefix and runs the float kernels.
        private const int DecodeAttentionRows = 1, DecodeAttentionPrefill = 8;

        private readonly float[] _query, _key, _value, _output, _weights;
        private readonly float[] _decodeQuery, _decodeKey, _decodeValue, _decodeOutput;
        private readonly float[] _tinyQuery, _tinyKey, _tinyValue, _tinyOutput, _tinyWeights;
        private readonly float[] _layerInput, _layerOutput, _layerWeights, _token, _tokenOutput;
        private readonly float[] _slopes, _sinks, _logSumExp, _additive;
        private readonly bool[] _allowed;
        private readonly KvCache _singleCache, _halfCache, _layerCache;
        private readonly MultiHeadAttention _layer;

        public Workload()
        {
            var random = new DeterministicRandom(20240611);
            _query = Filled(random, QueryLength * Heads * HeadDim);
            _key = Filled(random, KeyLength * KvHeads * HeadDim);
            _value = Filled(random, KeyLength * KvHeads * ValueDim);
            _output = new float[QueryLength * Heads * ValueDim];
            _weights = new float[QueryLength * KeyLength];

            _decodeQuery = Filled(random, DecodeAttentionRows * Heads * HeadDim);
            _decodeKey = Filled(random, KeyLength * KvHeads * HeadDim);
            _decodeValue = Filled(random, KeyLength * KvHeads * HeadDim);
            _decodeOutput = new float[DecodeAttentionRows * Heads * HeadDim];

            _tinyQuery = Filled(random, TinyQueries * TinyDim);
            _tinyKey = Filled(random, TinyKeys * TinyDim);
            _tinyValue = Filled(random, TinyKeys * TinyDim);
            _tinyOutput = new float[TinyQueries * TinyDim];
            _tinyWeights = new float[TinyQueries * TinyKeys];

            _singleCache = new KvCache(KeyLength, KvHeads, HeadDim);
            _halfCache = new KvCache(KeyLength, KvHeads, HeadDim, storage: KvCacheStorage.Half);

            _layer = MultiHeadAttention.CreateRandom(ModelDim, LayerHeads, seed: 7);
            _layerCache = new KvCache(LayerTokens + 1, _layer.KvHeads, _layer.HeadDim, _layer.ValueDim);
            _layerInput = Filled(random, LayerTokens * ModelDim);
            _layerOutput = new float[LayerTokens * ModelDim];
            _layerWeights = new float[LayerTokens * LayerTokens];
            _token = Filled(random, ModelDim);
            _tokenOutput = new float[ModelDim];

            _slopes = [0.5f, 0.25f, 0.125f, 0.0625f];
            _sinks = Filled(random, Heads);
            _logSumExp = new float[Heads * QueryLength];
            _additive = Filled(random, QueryLength * KeyLength);
            _allowed = new bool[QueryLength * KeyLength];
            for (int n = 0; n < _allowed.Length; n++)
            {
                _allowed[n] = n % 3 != 0;
            }
        }

        public void Run(int maxDegreeOfParallelism)
        {
            var tiled = new AttentionOptions { Kernel = AttentionKernel.Tiled };
            var rowByRow = new AttentionOptions { Kernel = AttentionKernel.RowByRow };
            var sum = new AttentionOptions { Normalization = AttentionNormalization.Sum };
            var causal = new AttentionOptions { IsCausal = true };

            // Tiled, row by row (softmax and sum), each unmasked and causal; Auto picks tiled here.
            var shape = new AttentionShape(1, QueryLength, KeyLength, Heads, HeadDim) { KvHeads = KvHeads, ValueDim = ValueDim };
            foreach (var options in (ReadOnlySpan<AttentionOptions>)[default, tiled, tiled with { IsCausal = true }, rowByRow, rowByRow with { IsCausal = true }, sum, sum with { IsCausal = true }])
            {
                Attention.ComputeMultiHead(_query, _key, _value, _output, shape, options);
            }

            if (maxDegreeOfParallelism is not (0 or 1))
            {
                Attention.ComputeMultiHead(_query, _key, _value, _output, shape, tiled with { MaxDegreeOfParallelism = maxDegreeOfParallelism });
            }

            // Decode over float buffers, grouped-query, unmasked and causal (Auto picks decode for one query row).
            var decode = new AttentionShape(1, DecodeAttentionRows, KeyLength, Heads, HeadDim) { KvHeads = KvHeads };
            Attention.ComputeMultiHead(_decodeQuery, _decodeKey, _decodeValue, _decodeOutput, decode);
            Attention.ComputeMultiHead(_decodeQuery, _decodeKey, _decodeValue, _decodeOutput, decode, causal);

            // The other mask instantiations (each mask combination is its own compiled kernel): a window, causal AND
            // window, and per-sequence lengths alone, with causal, with the window and with both, through the tiled
            // (Auto here), row-by-row and decode kernels. Top-left alignment is a field of the same masks.
            var window = new AttentionOptions { Window = new AttentionWindow(16, 0) };
            var causalWindow = window with { IsCausal = true };
            ReadOnlySpan<int> keyLengths = [KeyLength - 5], queryLengths = [QueryLength - 3], decodeLengths = [KeyLength - 5];
            foreach (var options in (ReadOnlySpan<AttentionOptions>)[window, causalWindow, window with { Kernel = AttentionKernel.RowByRow }, causalWindow with { Kernel = AttentionKernel.RowByRow }])
            {
                Attention.ComputeMultiHead(_query, _key, _value, _output, shape, options);
            }

            foreach (var options in (ReadOnlySpan<AttentionOptions>)[default, causal, window, causalWindow])
            {
                Attention.ComputeMultiHeadPadded(_query, _key, _value, _output, shape, keyLengths, queryLengths, options);
                Attention.ComputeMultiHeadPadded(_query, _key, _value, _output, shape, keyLengths, queryLengths, options with { Kernel = AttentionKernel.RowByRow });
                Attention.ComputeMultiHeadPadded(_decodeQuery, _decodeKey, _decodeValue, _decodeOutput, decode, decodeLengths, [], options);
            }

            Attention.ComputeMultiHead(_decodeQuery, _decodeKey, _decodeValue, _decodeOutput, decode, window);
            Attention.ComputeMultiHead(_decodeQuery, _decodeKey, _decodeValue, _decodeOutput, decode, causalWindow);

            // The score modifiers, sinks and log-sum-exp (each combination is its own compiled kernel too): softcap, ALiBi,
            // an additive and a boolean mask, sinks with the log-sum-exp, and the Gemma/GPT-OSS/BLOOM-style combinations,
            // through the tiled (Auto here) and row-by-row kernels, and one decode-shaped call (which runs row by row).
            var softCap = new AttentionOptions { SoftCap = 30f };
            var alibi = new AttentionModifiers { AlibiSlopes = _slopes };
            var sinks = new AttentionModifiers { Sinks = _sinks, LogSumExp = _logSumExp };
            foreach (var kernel in (ReadOnlySpan<AttentionKernel>)[AttentionKernel.Auto, AttentionKernel.RowByRow])
            {
                var options = new AttentionOptions { Kernel = kernel };
                Attention.ComputeMultiHead(_query, _key, _value, _output, shape, softCap with { Kernel = kernel });
                Attention.ComputeMultiHead(_query, _key, _value, _output, shape, alibi, options);
                Attention.ComputeMultiHead(_query, _key, _value, _output, shape, alibi, options with { IsCausal = true });
                Attention.ComputeMultiHead(_query, _key, _value, _output, shape, new AttentionModifiers { AdditiveMask = _additive }, options);
                Attention.ComputeMultiHead(_query, _key, _value, _output, shape, new AttentionModifiers { BooleanMask = _allowed }, options);
                Attention.ComputeMultiHead(_query, _key, _value, _output, shape, sinks, options);
                Attention.ComputeMultiHead(_query, _key, _value, _output, shape, sinks, softCap with { Kernel = kernel, IsCausal = true, Window = new AttentionWindow(16, 0) });
                Attention.ComputeMultiHead(_query, _key, _value, _output, shape, new AttentionModifiers { AlibiSlopes = _slopes, LogSumExp = _logSumExp }, softCap with { Kernel = kernel });
            }

            Attention.ComputeMultiHead(_decodeQuery, _decodeKey, _decodeValue, _decodeOutput, decode, softCap);

            // One head with the weights output (row by row), softmax and sum, and without it.
            var query = new ReadOnlySpan2D<float>(_query, 0, QueryLength, HeadDim, (Heads - 1) * HeadDim);
            var key = new ReadOnlySpan2D<float>(_key, 0, KeyLength, HeadDim, (KvHeads - 1) * HeadDim);
            var value = new ReadOnlySpan2D<float>(_value, 0, KeyLength, ValueDim, (KvHeads - 1) * ValueDim);
            var output = new Span2D<float>(_output, 0, QueryLength, ValueDim, (Heads - 1) * ValueDim);
            var weights = new Span2D<float>(_weights, QueryLength, KeyLength);
            Attention.Compute(query, key, value, output, weights, causal);
            Attention.Compute(query, key, value, output, weights, sum);
            Attention.Compute(query, key, value, output);

            // Tiny shapes run at 128 bits: row by row (with weights), tiled (Auto picks it for 8 rows) and decode.
            var tinyQuery = new ReadOnlySpan2D<float>(_tinyQuery, TinyQueries, TinyDim);
            var tinyKey = new ReadOnlySpan2D<float>(_tinyKey, TinyKeys, TinyDim);
            var tinyValue = new ReadOnlySpan2D<float>(_tinyValue, TinyKeys, TinyDim);
            var tinyOutput = new Span2D<float>(_tinyOutput, TinyQueries, TinyDim);
            Attention.Compute(tinyQuery, tinyKey, tinyValue, tinyOutput, new Span2D<float>(_tinyWeights, TinyQueries, TinyKeys));
            Attention.Compute(tinyQuery, tinyKey, tinyValue, tinyOutput, causal);
            Attention.Compute(tinyQuery, tinyKey, tinyValue, tinyOutput, tiled);
            Attention.Compute(tinyQuery.Slice(0, 0, 1, TinyDim), tinyKey, tinyValue, tinyOutput.Slice(0, 0, 1, TinyDim), new AttentionOptions { Kernel = AttentionKernel.Decode });

            // KV caches: float and Half decode steps, and a Half prefill (widened once, then the float kernels).
            foreach (var cache in (ReadOnlySpan<KvCache>)[_singleCache, _halfCache])
            {
                cache.Clear();
                cache.Append(_decodeKey, _decodeValue, KeyLength);
                cache.Attend(_decodeQuery, _decodeOutput, Heads, DecodeAttentionRows, causal);
            }

            _halfCache.Attend(_query.AsSpan(0, DecodeAttentionPrefill * Heads * HeadDim), _output.AsSpan(0, DecodeAttentionPrefill * Heads * HeadDim), Heads, DecodeAttentionPrefill, causal);

            // A layer: packed GEMM projections (7 rows), the weights overload, and a one-token decode step (streamed GEMM).
            _layer.Forward(_layerInput, _layerOutput, 1, LayerTokens);
            _layer.Forward(_layerInput, _layerInput, _layerOutput, _layerWeights, AttentionWeightsMode.AverageOverHeads, 1, LayerTokens, LayerTokens);
            _layerCache.Clear();
            _layer.Forward(_token, _tokenOutput, 1, 1, _layerCache, causal);

            // The public row primitives.
            Span<float> row = _weights.AsSpan(0, KeyLength);
            AttentionPrimitives.Softmax(_key.AsSpan(0, KeyLength), row);
            AttentionPrimitives.SumNormalize(row, row);
            AttentionPrimitives.Dot(_key.AsSpan(0, HeadDim), _query.AsSpan(0, HeadDim));
            AttentionPrimitives.WeightedSum(row, _value.AsSpan(0, KeyLength * ValueDim), _output.AsSpan(0, ValueDim));
        }

        private static float[] Filled(DeterministicRandom random, int length)
        {
            var values = new float[length];
            random.Fill(values, -1f, 1f);
            return values;
        }
    }
}
