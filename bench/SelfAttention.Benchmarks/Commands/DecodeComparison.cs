using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using SelfAttention.Comparison.Quick;

namespace SelfAttention.Benchmarks.Commands;

/// <summary>
/// The decode table of the <c>cache</c> command: one single-token step (<see cref="KvCache.Attend"/>, causal) against
/// 4096 cached tokens, 32 query heads of d = 128, per layout (MHA: 32 kv heads, GQA: 8, MQA: 1) and per storage,
/// on one and two threads. Each step is timed in the same rounds as a plain read of exactly the bytes it reads
/// (<see cref="KvCache.StoredRuns"/>: keys, values and Int8 scales, summed with vector adds; on two threads, each
/// thread reads half of every run), alternating storage by storage; medians. Reported: µs per step, MB of cache read,
/// GB/s, the read's µs and GB/s, the ratio read time / step time (1 = the step reads as fast as a plain read), and
/// the float step's time over this step's (the speed-up a smaller storage buys). Then a ragged batch: eight sequences of
/// 100 to 4096 cached tokens in one cache, one new token each in one call, against the plain read of each sequence's
/// own bytes (work proportional to the real lengths reads like one long sequence).
/// </summary>
public static class DecodeComparison
{
    private const int Tokens = 4096, Heads = 32, HeadDim = 128, Rounds = 15;

    public static int Run(TextWriter output)
    {
        output.WriteLine($"decode: one causal step against {Tokens} cached tokens, {Heads} query heads, d = {HeadDim}; alternating rounds, medians of {Rounds}");
        output.WriteLine(Header);
        var random = new DeterministicRandom(3);
        int[] full = [Tokens];
        foreach (var (name, kvHeads) in new[] { ("MHA 32/32", 32), ("GQA 32/8", 8), ("MQA 32/1", 1) })
        {
            RunCase(output, name, kvHeads, full, random, warmSeconds: kvHeads == 32 ? 1.5 : 0.4);
        }

        // A chat service's batch: eight conversations of different lengths, one new token each, in one call.
        int[] ragged = new int[8];
        for (int b = 0; b < ragged.Length; b++)
        {
            ragged[b] = 100 + (int)((long)(Tokens - 100) * b / (ragged.Length - 1));
        }

        output.WriteLine();
        output.WriteLine($"ragged batch: {ragged.Length} sequences of {string.Join(", ", ragged)} cached tokens ({ragged.Sum()} in all), one new token each, one Attend call");
        output.WriteLine(Header);
        foreach (var (name, kvHeads) in new[] { ("MHA 32/32", 32), ("GQA 32/8", 8) })
        {
            RunCase(output, "8x " + name, kvHeads, ragged, random, warmSeconds: 0.4);
        }

        output.WriteLine("read/step: the plain read's time over the step's (the share of a plain read's speed the step reaches); x float: the float cache's step time over this one's.");
        return 0;
    }

    private static readonly string Header =
        $"{"layout",-14} {"storage",-8} {"thr",3} {"step us",9} {"MB",6} {"GB/s",6} {"read us",9} {"read GB/s",9} {"read/step",9} {"x float",7} {"B/step",6}";

    /// <summary>
    /// One layout over every storage, one and two threads: a cache of <c>lengths.Length</c> sequences, sequence b holding
    /// <c>lengths[b]</c> tokens, and one single-token step per sequence timed against the plain read of the bytes it reads.
    /// </summary>
    private static void RunCase(TextWriter output, string name, int kvHeads, int[] lengths, DeterministicRandom random, double warmSeconds)
    {
        int batch = lengths.Length, capacity = lengths.Max();
        var storages = Enum.GetValues<KvCacheStorage>();
        var keys = new float[capacity * kvHeads * HeadDim];
        var values = new float[keys.Length];
        random.Fill(keys, -1f, 1f);
        random.Fill(values, -1f, 1f);
        var query = new float[batch * Heads * HeadDim];
        random.Fill(query, -1f, 1f);
        var context = new float[batch * Heads * HeadDim];
        var caches = new KvCache[storages.Length];
        for (int s = 0; s < storages.Length; s++)
        {
            caches[s] = new KvCache(capacity, kvHeads, HeadDim, batch: batch, storage: storages[s]);
            for (int b = 0; b < batch; b++)
            {
                int count = lengths[b] * kvHeads * HeadDim;
                caches[s].Append(b, keys.AsSpan(0, count), values.AsSpan(0, count), lengths[b]);
            }
        }

        foreach (int threads in new[] { 1, 2 })
        {
            var options = new AttentionOptions { IsCausal = true, MaxDegreeOfParallelism = threads };
            var warm = Stopwatch.StartNew();
            while (warm.Elapsed.TotalSeconds < warmSeconds)
            {
                foreach (var cache in caches)
                {
                    cache.Attend(query, context, Heads, 1, options);
                    Read(cache, batch, threads);
                }
            }

            warmSeconds = 0.4;
            var step = new List<double>[caches.Length];
            var read = new List<double>[caches.Length];
            long[] allocated = new long[caches.Length];
            for (int s = 0; s < caches.Length; s++)
            {
                step[s] = [];
                read[s] = [];
                allocated[s] = long.MaxValue;
            }

            for (int round = 0; round < Rounds; round++)
            {
                for (int s = 0; s < caches.Length; s++)
                {
                    long before = GC.GetTotalAllocatedBytes(precise: true);
                    long start = Stopwatch.GetTimestamp();
                    caches[s].Attend(query, context, Heads, 1, options);
                    step[s].Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
                    allocated[s] = Math.Min(allocated[s], GC.GetTotalAllocatedBytes(precise: true) - before);
                    start = Stopwatch.GetTimestamp();
                    Read(caches[s], batch, threads);
                    read[s].Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
                }
            }

            double floatStep = Median(step[0]);
            for (int s = 0; s < caches.Length; s++)
            {
                double us = Median(step[s]), readUs = Median(read[s]);
                double bytes = StoredBytes(caches[s], batch);
                output.WriteLine($"{name,-14} {storages[s],-8} {threads,3} {us,9:0.0} {bytes / 1e6,6:0.0} {bytes / us / 1e3,6:0.0} {readUs,9:0.0} {bytes / readUs / 1e3,9:0.0} {readUs / us,9:0.00} {floatStep / us,7:0.00} {allocated[s],6}");
            }
        }
    }

    private static double Median(List<double> times)
    {
        times.Sort();
        return times[times.Count / 2];
    }

    /// <summary>Bytes one step reads: every stored run of the first <paramref name="batch"/> entries, each at its own length.</summary>
    internal static double StoredBytes(KvCache cache, int batch)
    {
        var runs = new (Array Array, int ByteOffset, int ByteLength)[4];
        double bytes = 0;
        for (int b = 0; b < batch; b++)
        {
            int count = cache.StoredRuns(b, cache.SequenceLength(b), runs);
            for (int r = 0; r < count; r++)
            {
                bytes += runs[r].ByteLength;
            }
        }

        return bytes;
    }

    private static float _sink;

    /// <summary>Reads every stored run of the first <paramref name="batch"/> entries once, on one thread or split in halves over two.</summary>
    internal static void Read(KvCache cache, int batch, int threads)
    {
        if (threads == 1)
        {
            _sink += ReadPart(cache, batch, 0, 1);
            return;
        }

        float other = 0;
        var helper = Task.Run(() => other = ReadPart(cache, batch, 1, 2));
        float mine = ReadPart(cache, batch, 0, 2);
        helper.Wait();
        _sink += mine + other;
    }

    // Part `part` of `parts` of every run, in floats (a byte run's length is a multiple of 4 here, the tail is dropped).
    private static float ReadPart(KvCache cache, int batch, int part, int parts)
    {
        var runs = new (Array Array, int ByteOffset, int ByteLength)[4];
        float sum = 0;
        for (int b = 0; b < batch; b++)
        {
            int count = cache.StoredRuns(b, cache.SequenceLength(b), runs);
            for (int r = 0; r < count; r++)
            {
                var (array, offset, length) = runs[r];
                ref byte origin = ref Unsafe.AddByteOffset(ref MemoryMarshal.GetArrayDataReference(array), (nint)offset);
                ReadOnlySpan<float> floats = MemoryMarshal.CreateReadOnlySpan(ref Unsafe.As<byte, float>(ref origin), length / sizeof(float));
                int share = floats.Length / parts;
                sum += MachineControls.SumStreaming(floats.Slice(part * share, part == parts - 1 ? floats.Length - part * share : share));
            }
        }

        return sum;
    }
}
