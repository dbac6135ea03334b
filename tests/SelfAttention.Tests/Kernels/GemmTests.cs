using SelfAttention.Kernels;
using SelfAttention.Tests.Helpers;
using Xunit;

namespace SelfAttention.Tests.Kernels;

/// <summary>
/// The projection GEMM against a naive triple loop in double, on awkward sizes (tails of the 6-row tile and of the
/// 4-vector panel at every width, K across block boundaries), with leading dimensions larger than the widths and
/// sentinels in every gap of C, with and without bias, and with C accumulated over several K blocks.
/// Tolerance: abs 1e-5 + rel 1e-5 · Σ_k |a·b| per element (float accumulation of k products).
/// </summary>
public class GemmTests
{
    private const float Sentinel = 12345f;

    public static TheoryData<int, int, int, bool> Sizes()
    {
        var data = new TheoryData<int, int, int, bool>();
        foreach (var (m, n, k) in new[] { (1, 1, 1), (3, 4, 4), (6, 16, 8), (7, 17, 3), (17, 63, 65), (16, 65, 33), (10, 129, 7), (63, 65, 127), (13, 129, 257), (65, 64, 513), (12, 1, 600), (1, 200, 0), (8, 70, 0), (7, 4100, 3), (1, 4099, 5), (13, 8193, 2) })
        {
            data.Add(m, n, k, false);
            data.Add(m, n, k, true);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Multiply_MatchesNaiveTripleLoop(int m, int n, int k, bool withBias)
    {
        var rng = new Random(m * 1000 + n * 10 + k);
        int lda = k + 3, ldb = n + 5, ldc = n + 2;
        float[] a = TestInputs.Uniform(rng, Math.Max(1, m * lda), 1f);
        float[] b = TestInputs.Uniform(rng, Math.Max(1, k * ldb), 1f);
        float[] bias = withBias ? TestInputs.Uniform(rng, n, 1f) : [];
        float[] c = new float[m * ldc + 7];
        Array.Fill(c, Sentinel);

        MatrixMultiply.Multiply(a, lda, b, ldb, bias, c, ldc, m, n, k);

        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double expected = withBias ? bias[j] : 0, magnitude = Math.Abs(expected);
                for (int kk = 0; kk < k; kk++)
                {
                    double product = (double)a[i * lda + kk] * b[kk * ldb + j];
                    expected += product;
                    magnitude += Math.Abs(product);
                }

                float actual = c[i * ldc + j];
                Assert.True(Math.Abs(actual - expected) <= 1e-5 + 1e-5 * magnitude,
                    $"m={m} n={n} k={k} bias={withBias}: C[{i}, {j}] expected {expected}, actual {actual}");
            }

            for (int j = n; j < ldc && i * ldc + j < c.Length; j++)
            {
                Assert.True(c[i * ldc + j] == Sentinel, $"m={m} n={n} k={k}: gap C[{i}, {j}] was written: {c[i * ldc + j]}");
            }
        }

        for (int index = m * ldc; index < c.Length; index++)
        {
            Assert.True(c[index] == Sentinel, $"m={m} n={n} k={k}: past the end, c[{index}] was written: {c[index]}");
        }
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 3)]
    [InlineData(384, 1536)]
    [InlineData(257, 65)]
    public unsafe void PackedMatrix_StartsOnACacheLine_AndHoldsB(int k, int n)
    {
        // The packed weights start on a 64-byte line (no vector load of B straddles two), and the slack before them
        // does not shift the layout: element (kk, j) of block kb's panel p is where PackedMatrix says.
        var rng = new Random(k * 31 + n);
        float[] b = TestInputs.Uniform(rng, k * n, 1f);
        for (int copy = 0; copy < 4; copy++)
        {
            var packed = PackedMatrix.Pack(b, n, k, n);
            Assert.Equal(0, (long)packed.Data & 63);
            int panel = packed.Panel;
            for (int kk = 0; kk < k; kk += Math.Max(1, k / 7))
            {
                int k0 = kk / Gemm.KBlock * Gemm.KBlock, kc = Math.Min(Gemm.KBlock, k - k0);
                for (int j = 0; j < packed.PaddedColumns; j += Math.Max(1, n / 5))
                {
                    float expected = j < n ? b[kk * n + j] : 0f;
                    float actual = packed.Data[(nint)k0 * packed.PaddedColumns + (j / panel) * kc * panel + (kk - k0) * panel + j % panel];
                    Assert.True(expected == actual, $"k={k} n={n}: B[{kk}, {j}] expected {expected}, actual {actual}");
                }
            }
        }
    }
}
