using System.Diagnostics;
using SelfAttention.Reference;

namespace SelfAttention.Benchmarks.Commands;

/// <summary>
/// The <c>layer</c> command: a <see cref="MultiHeadAttention"/> forward pass at BERT-base (sequence 128, model 768,
/// 12 heads), one and two threads, against the naive reference layer once; µs per call (median of rounds after a
/// warm-up of more than a second), GFLOP/s (projections 2·n·E·E each for Q, K, V and the output, plus attention
/// 4·n²·E) and bytes allocated per steady-state call.
/// </summary>
public static class LayerComparison
{
    public static int Run(TextWriter output)
    {
        const int sequence = 128, model = 768, heads = 12;
        var layer = MultiHeadAttention.CreateRandom(model, heads, seed: 1);
        var random = new DeterministicRandom(2);
        var input = new float[sequence * model];
        random.Fill(input, -1f, 1f);
        var result = new float[input.Length];
        var expected = new float[input.Length];

        NaiveMultiHeadAttention.Forward(layer, input, input, expected, 1, sequence, sequence);
        layer.Forward(input, result, 1, sequence);
        double worst = 0;
        for (int i = 0; i < result.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(result[i] - expected[i]));
        }

        double flops = 4 * 2.0 * sequence * model * model + 4.0 * sequence * sequence * model;
        var naive = Stopwatch.StartNew();
        NaiveMultiHeadAttention.Forward(layer, input, input, expected, 1, sequence, sequence);
        double naiveUs = naive.Elapsed.TotalMicroseconds;

        output.WriteLine($"MultiHeadAttention forward, BERT-base: sequence {sequence}, model {model}, {heads} heads, bias; max |layer - naive layer| = {worst:0.0e+0}");
        output.WriteLine($"{"threads",8} {"us/call",10} {"GFLOP/s",8} {"B/call",8} {"x naive",8}");
        foreach (int threads in new[] { 1, 2 })
        {
            var options = new AttentionOptions { MaxDegreeOfParallelism = threads };
            var warm = Stopwatch.StartNew();
            while (warm.Elapsed.TotalSeconds < 1.5)
            {
                layer.Forward(input, result, 1, sequence, options);
            }

            var times = new List<double>();
            long allocated = long.MaxValue;
            for (int round = 0; round < 15; round++)
            {
                long before = GC.GetTotalAllocatedBytes(precise: true);
                int calls = 0;
                long start = Stopwatch.GetTimestamp();
                do
                {
                    layer.Forward(input, result, 1, sequence, options);
                    calls++;
                }
                while (Stopwatch.GetElapsedTime(start).TotalMilliseconds < 30);
                times.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds / calls);
                allocated = Math.Min(allocated, (GC.GetTotalAllocatedBytes(precise: true) - before) / calls);
            }

            times.Sort();
            double median = times[times.Count / 2];
            output.WriteLine($"{threads,8} {median,10:0.0} {flops / median / 1e3,8:0.0} {allocated,8} {naiveUs / median,8:0.0}");
        }

        output.WriteLine("Projections use only the calling thread; MaxDegreeOfParallelism spreads the attention itself.");
        return 0;
    }
}
