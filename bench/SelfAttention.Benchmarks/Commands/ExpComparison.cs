using System.Diagnostics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using SelfAttention.Comparison.Quick;
using SelfAttention.Kernels;

namespace SelfAttention.Benchmarks.Commands;

/// <summary>
/// The <c>exp</c> command: the library's fused exp-subtract-sum against TensorPrimitives (Subtract, Exp, Sum) on rows
/// of scores in [−87, 0], alternating in one process, medians; and the fast exp's largest relative error against
/// <see cref="Math.Exp(double)"/> over [−87, 0].
/// </summary>
public static class ExpComparison
{
    public static (float[] Scores, float[] Weights) Inputs(int length)
    {
        var rng = new Random(length);
        var scores = new float[length];
        for (int i = 0; i < length; i++)
        {
            scores[i] = (float)(-87.0 * rng.NextDouble());
        }

        return (scores, new float[length]);
    }

    /// <summary>weights = e^(scores − max), returning their sum, composed from TensorPrimitives calls.</summary>
    public static float Composed(float[] scores, float[] weights, float max)
    {
        TensorPrimitives.Subtract(scores, max, weights);
        TensorPrimitives.Exp(weights, weights);
        return TensorPrimitives.Sum(weights);
    }

    /// <summary>The same with the library's fused kernel at the widest accelerated width.</summary>
    public static float Fused(float[] scores, float[] weights, float max)
    {
        ref float s = ref MemoryMarshal.GetArrayDataReference(scores);
        ref float w = ref MemoryMarshal.GetArrayDataReference(weights);
        int n = scores.Length;
        if (Vector512.IsHardwareAccelerated) return RowKernels.ExpSubtractSum<Vector512<float>, Vector512Ops>(ref s, ref w, n, max);
        if (Vector256.IsHardwareAccelerated) return RowKernels.ExpSubtractSum<Vector256<float>, Vector256Ops>(ref s, ref w, n, max);
        if (Vector128.IsHardwareAccelerated) return RowKernels.ExpSubtractSum<Vector128<float>, Vector128Ops>(ref s, ref w, n, max);
        return RowKernels.ExpSubtractSum<float, ScalarOps>(ref s, ref w, n, max);
    }

    /// <summary>Largest |fast − exact| / exact over a fine grid of [−87, 0], exact from <see cref="Math.Exp(double)"/>.</summary>
    public static double MaxRelativeError()
    {
        double worst = 0;
        for (double x = -87; x <= 0; x += 1e-4)
        {
            float xf = (float)x;
            double exact = Math.Exp(xf);
            worst = Math.Max(worst, Math.Abs(FastExp.Exp(xf) - exact) / exact);
        }

        return worst;
    }

    public static int Run(TextWriter output)
    {
        output.WriteLine($"exp over rows of scores in [-87, 0], vector width {MachineControls.VectorWidth}; ns per element, median of alternating rounds");
        output.WriteLine($"{"length",8} {"TensorPrimitives",18} {"fused FastExp",15} {"speedup",8}");
        foreach (int length in new[] { 128, 4096 })
        {
            var (scores, weights) = Inputs(length);
            var composed = new List<double>();
            var fused = new List<double>();
            int reps = Math.Max(1, 2_000_000 / length);
            var warm = Stopwatch.StartNew();
            while (warm.Elapsed.TotalSeconds < 1.5)
            {
                Composed(scores, weights, 0f);
                Fused(scores, weights, 0f);
            }

            for (int round = 0; round < 15; round++)
            {
                composed.Add(Time(() => Composed(scores, weights, 0f), reps) / length);
                fused.Add(Time(() => Fused(scores, weights, 0f), reps) / length);
            }

            double c = Median(composed), f = Median(fused);
            output.WriteLine($"{length,8} {c,18:0.000} {f,15:0.000} {c / f,7:0.00}x");
        }

        output.WriteLine($"fast exp: largest relative error against Math.Exp over [-87, 0] (step 1e-4): {MaxRelativeError():0.00e+0}");
        return 0;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static double Time(Func<float> body, int reps)
    {
        float sink = 0;
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < reps; i++)
        {
            sink += body();
        }

        double ns = Stopwatch.GetElapsedTime(start).TotalNanoseconds / reps;
        return float.IsNaN(sink) ? double.NaN : ns;
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }
}
