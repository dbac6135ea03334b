using System.Diagnostics;
using SelfAttention.Kernels;
using SelfAttention.Transformers;

namespace SelfAttention.Benchmarks.Commands;

/// <summary>
/// The <c>linear</c> command: <see cref="Linear"/> (weights packed once, bias and activation fused) against the same
/// product through the per-call GEMM (<see cref="MatrixMultiply"/>, which packs B on every call, then a separate
/// activation pass), on all-MiniLM-L6-v2's projections (hidden 384, feed-forward 1536) at the row counts of a service:
/// 1, 6, 16 and 128 tokens. One thread, alternating rounds after a warm-up, medians; results cross-checked first.
/// </summary>
public static class LinearComparison
{
    private static readonly (int In, int Out, LinearActivation Activation, string What)[] s_shapes =
    [
        (384, 384, LinearActivation.None, "attention projection"),
        (384, 1536, LinearActivation.Gelu, "feed-forward up, GELU"),
        (1536, 384, LinearActivation.None, "feed-forward down"),
    ];

    public static int Run(TextWriter output)
    {
        output.WriteLine("Linear (packed once, fused bias + activation) against MatrixMultiply (packs per call) + a separate activation pass; one thread");
        output.WriteLine($"{"rows x in -> out",-22} {"Linear us",10} {"GFLOP/s",8} {"per-call us",12} {"ratio",7}   what");
        foreach (var (inFeatures, outFeatures, activation, what) in s_shapes)
        {
            var rng = new Random(inFeatures + outFeatures);
            float[] weights = GemmComparison.Fill(rng, inFeatures * outFeatures), bias = GemmComparison.Fill(rng, outFeatures);
            var layer = new Linear(weights, bias, inFeatures, outFeatures, activation: activation);
            foreach (int rows in new[] { 1, 6, 16, 128 })
            {
                float[] x = GemmComparison.Fill(rng, rows * inFeatures), y1 = new float[rows * outFeatures], y2 = new float[rows * outFeatures];
                Action packed = () => layer.Forward(x, y1);
                Action perCall = () =>
                {
                    MatrixMultiply.Multiply(x, inFeatures, weights, outFeatures, bias, y2, outFeatures, rows, outFeatures, inFeatures);
                    if (activation == LinearActivation.Gelu)
                    {
                        Activations.Gelu(y2, y2);
                    }
                };
                packed();
                perCall();
                double worst = 0;
                for (int i = 0; i < y1.Length; i++)
                {
                    worst = Math.Max(worst, Math.Abs(y1[i] - y2[i]));
                }

                if (worst > 1e-3)
                {
                    output.WriteLine($"{rows}x{inFeatures}->{outFeatures}: the two differ by {worst}; not timed");
                    return 1;
                }

                var warm = Stopwatch.StartNew();
                while (warm.Elapsed.TotalSeconds < 1.5)
                {
                    packed();
                    perCall();
                }

                var packedTimes = new List<double>();
                var perCallTimes = new List<double>();
                for (int round = 0; round < 21; round++)
                {
                    packedTimes.Add(GemmComparison.Time(packed));
                    perCallTimes.Add(GemmComparison.Time(perCall));
                }

                double p = GemmComparison.Median(packedTimes), q = GemmComparison.Median(perCallTimes);
                output.WriteLine($"{$"{rows} x {inFeatures} -> {outFeatures}",-22} {p,10:0.0} {2.0 * rows * inFeatures * outFeatures / p / 1e3,8:0.0} {q,12:0.0} {q / p,6:0.00}x   {what}");
            }
        }

        output.WriteLine("ratio: per-call time / Linear time (above 1: packing once is faster).");
        return 0;
    }
}
