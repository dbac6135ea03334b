using System.Diagnostics;
using SelfAttention.Comparison.Quick;

namespace SelfAttention.Benchmarks.Commands;

/// <summary>
/// The <c>cache</c> command: one decode step against a <see cref="KvCache"/> holding 4096 tokens (32 heads, d = 128),
/// float and Half storage, alternating in one process after a warm-up of more than a second; medians. Reported: µs per
/// step for the attention (<see cref="KvCache.Attend"/>) and for a whole layer step (model 4096 = 32 × 128, projections
/// included), GB/s of cache read by the attention, and bytes allocated per step. The streaming-read control is measured
/// in the same run. Then the decode table of <see cref="DecodeComparison"/>: per layout and storage, against a
/// plain read of the same bytes in the same rounds, on one and two threads.
/// </summary>
public static class CacheComparison
{
    public static int Run(TextWriter output)
    {
        const int tokens = 4096, heads = 32, headDim = 128, model = heads * headDim;
        double read = MachineControls.MeasureStreamingRead();
        output.WriteLine($"decode step against {tokens} cached tokens, {heads} heads, d = {headDim}, one thread; streaming-read control {read:0.0} GB/s");
        output.WriteLine($"{"storage",8} {"attend us",10} {"GB/s",6} {"%read",6} {"layer step us",14} {"B/step",7}");
        var layer = MultiHeadAttention.CreateRandom(model, heads, seed: 1, useBias: false);
        var random = new DeterministicRandom(3);
        var keys = new float[tokens * model];
        var values = new float[tokens * model];
        random.Fill(keys, -1f, 1f);
        random.Fill(values, -1f, 1f);
        var query = new float[model];
        random.Fill(query, -1f, 1f);
        var context = new float[model];
        var token = new float[model];
        var tokenOut = new float[model];
        var causal = new AttentionOptions { IsCausal = true };

        foreach (var storage in new[] { KvCacheStorage.Single, KvCacheStorage.Half })
        {
            var cache = new KvCache(tokens + 1, heads, headDim, storage: storage);
            cache.Append(keys, values, tokens);
            var warm = Stopwatch.StartNew();
            while (warm.Elapsed.TotalSeconds < 1.5)
            {
                cache.Attend(query, context, heads, 1, causal);
            }

            var attendTimes = new List<double>();
            var layerTimes = new List<double>();
            long allocated = long.MaxValue;
            for (int round = 0; round < 11; round++)
            {
                long before = GC.GetTotalAllocatedBytes(precise: true);
                long start = Stopwatch.GetTimestamp();
                cache.Attend(query, context, heads, 1, causal);
                attendTimes.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
                allocated = Math.Min(allocated, GC.GetTotalAllocatedBytes(precise: true) - before);

                // A whole layer step appends one token, so rewind afterwards to keep the cache at 4096.
                start = Stopwatch.GetTimestamp();
                layer.Forward(token, tokenOut, 1, 1, cache, causal);
                layerTimes.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
                cache.Truncate(tokens);
            }

            attendTimes.Sort();
            layerTimes.Sort();
            double attend = attendTimes[attendTimes.Count / 2];
            double bytes = 2.0 * tokens * model * (storage == KvCacheStorage.Single ? 4 : 2);
            double gbs = bytes / attend / 1e3;
            output.WriteLine($"{storage,8} {attend,10:0.0} {gbs,6:0.0} {100 * gbs / read,5:0}% {layerTimes[layerTimes.Count / 2],14:0.0} {allocated,7}");
        }

        output.WriteLine("GB/s: bytes of cached K and V read per step / time (float 4 bytes, Half 2 bytes per element).");
        output.WriteLine();
        return DecodeComparison.Run(output);
    }
}
