using System.Diagnostics;
using SelfAttention.Comparison.Peers;
using SelfAttention.Kernels;

namespace SelfAttention.Benchmarks.Commands;

/// <summary>
/// The <c>gemm</c> command: the library's projection GEMM (<c>C = A·B</c>, row-major) against OpenBLAS
/// <c>cblas_sgemm</c> (one thread, AVX-512 kernels where the CPU has them) on the shapes of a transformer layer's
/// projections, alternating in one process after a warm-up of more than a second; medians; results cross-checked.
/// </summary>
public static unsafe class GemmComparison
{
    private static readonly (int M, int N, int K, string What)[] s_shapes =
    [
        (512, 768, 768, "512 tokens x 768 -> 768 (BERT-base projection, 512 tokens)"),
        (128, 768, 768, "128 tokens x 768 -> 768 (BERT-base projection)"),
        (128, 2304, 768, "128 tokens x 768 -> 3*768 (fused QKV)"),
    ];

    public static int Run(TextWriter output)
    {
        bool blas = OpenBlasLibrary.FailureReason is null;
        output.WriteLine($"GEMM C[m x n] = A[m x k]·B[k x n], one thread; OpenBLAS: {(blas ? OpenBlasLibrary.Description : "skipped: " + OpenBlasLibrary.FailureReason)}");
        output.WriteLine($"{"m x n x k",-16} {"library us",11} {"GFLOP/s",8} {"OpenBLAS us",12} {"GFLOP/s",8} {"ratio",7}   shape");
        foreach (var (m, n, k, what) in s_shapes)
        {
            var rng = new Random(m + n + k);
            float[] a = Fill(rng, m * k), b = Fill(rng, k * n), c1 = new float[m * n], c2 = new float[m * n];
            Action library = () => MatrixMultiply.Multiply(a, k, b, n, default, c1, n, m, n, k);
            Action? peer = blas ? () => Sgemm(a, b, c2, m, n, k) : null;
            library();
            peer?.Invoke();
            if (peer is not null)
            {
                double worst = 0;
                for (int i = 0; i < c1.Length; i++)
                {
                    worst = Math.Max(worst, Math.Abs(c1[i] - c2[i]));
                }

                if (worst > 1e-3)
                {
                    output.WriteLine($"{m}x{n}x{k}: library and OpenBLAS differ by {worst}; not timed");
                    return 1;
                }
            }

            var warm = Stopwatch.StartNew();
            while (warm.Elapsed.TotalSeconds < 1.5)
            {
                library();
                peer?.Invoke();
            }

            var libraryTimes = new List<double>();
            var peerTimes = new List<double>();
            for (int round = 0; round < 15; round++)
            {
                libraryTimes.Add(Time(library));
                if (peer is not null)
                {
                    peerTimes.Add(Time(peer));
                }
            }

            double flops = 2.0 * m * n * k, lib = Median(libraryTimes);
            string peerColumns = peer is null ? $"{"-",12} {"-",8} {"-",7}" : $"{Median(peerTimes),12:0.0} {flops / Median(peerTimes) / 1e3,8:0.0} {Median(peerTimes) / lib,6:0.00}x";
            output.WriteLine($"{$"{m}x{n}x{k}",-16} {lib,11:0.0} {flops / lib / 1e3,8:0.0} {peerColumns}   {what}");
        }

        output.WriteLine("ratio: OpenBLAS time / library time (above 1: the library is faster).");
        return 0;
    }

    private static void Sgemm(float[] a, float[] b, float[] c, int m, int n, int k)
    {
        fixed (float* pa = a, pb = b, pc = c)
        {
            OpenBlasLibrary.Sgemm(OpenBlasLibrary.RowMajor, OpenBlasLibrary.NoTrans, OpenBlasLibrary.NoTrans, m, n, k, 1f, pa, k, pb, n, 0f, pc, n);
        }
    }

    // Microseconds per call over a batch of about 20 ms.
    internal static double Time(Action body)
    {
        int calls = 0;
        long start = Stopwatch.GetTimestamp();
        do
        {
            body();
            calls++;
        }
        while (Stopwatch.GetElapsedTime(start).TotalMilliseconds < 20);
        return Stopwatch.GetElapsedTime(start).TotalMicroseconds / calls;
    }

    internal static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }

    internal static float[] Fill(Random rng, int length)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++)
        {
            values[i] = (float)(rng.NextDouble() * 2 - 1);
        }

        return values;
    }
}
