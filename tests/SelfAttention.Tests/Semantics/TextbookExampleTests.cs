using CommunityToolkit.HighPerformance;
using SelfAttention.Reference;
using SelfAttention.Tests.Helpers;
using Xunit;

namespace SelfAttention.Tests.Semantics;

/// <summary>
/// The textbook example: "I love bears" as three 4-dimensional embeddings X, q = k = v = X, unscaled (Scale = 1).
/// The expected numbers were computed independently of the library (Python, double precision, from the float32 values
/// of X) and are written here as literals with 7 significant digits:
/// <code>
/// scores S = X·Xᵀ;  weights W = softmax(S) per row (or S / ΣS per row);  new embeddings = W·X
/// </code>
/// Every value is asserted to within 1e-5 (the literals carry 7 digits, ≤ 5e-8 relative; float kernels err by ~1e-7).
/// </summary>
public class TextbookExampleTests
{
    private const double Tolerance = 1e-5;

    private static readonly float[] s_x =
    [
        0.5f, 0.8f, 0.2f, 0.6f, // I
        0.7f, 0.1f, 0.9f, 0.3f, // love
        0.4f, 0.6f, 0.3f, 0.8f, // bears
    ];

    private static readonly double[,] s_scores =
    {
        { 1.29, 0.79, 1.22 },
        { 0.79, 1.40, 0.85 },
        { 1.22, 0.85, 1.25 },
    };

    private static readonly double[,] s_softmaxWeights =
    {
        { 0.3938676, 0.2388927, 0.3672397 },
        { 0.2562612, 0.4716312, 0.2721076 },
        { 0.3674864, 0.2538355, 0.3786781 },
    };

    private static readonly double[,] s_softmaxOutput =
    {
        { 0.5110546, 0.5593272, 0.4039489, 0.6017801 },
        { 0.5671155, 0.4154367, 0.5573526, 0.5129322 },
        { 0.5128993, 0.5465796, 0.4155526, 0.5995850 },
    };

    private static readonly double[,] s_sumWeights =
    {
        { 0.3909091, 0.2393939, 0.3696970 },
        { 0.2598684, 0.4605263, 0.2796053 },
        { 0.3674699, 0.2560241, 0.3765060 },
    };

    private static readonly double[,] s_sumOutput =
    {
        { 0.5109091, 0.5584849, 0.4045455, 0.6021212 },
        { 0.5641447, 0.4217105, 0.5503289, 0.5177632 },
        { 0.5135542, 0.5454819, 0.4168675, 0.5984940 },
    };

    public static TheoryData<string> Implementations
    {
        get
        {
            var data = new TheoryData<string> { "Reference" };
            foreach (var kernel in TestInputs.Kernels)
            {
                data.Add(kernel.ToString());
            }

            return data;
        }
    }

    /// <summary>The scores X·Xᵀ, through the library's dot product.</summary>
    [Fact]
    public void Scores_AreUnscaledDotProducts()
    {
        for (int i = 0; i < 3; i++)
        {
            for (int j = 0; j < 3; j++)
            {
                float score = AttentionPrimitives.Dot(s_x.AsSpan(i * 4, 4), s_x.AsSpan(j * 4, 4));
                Assert.True(Math.Abs(score - s_scores[i, j]) <= Tolerance, $"score [{i}, {j}] = {score:R}, expected {s_scores[i, j]}.");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Implementations))]
    public void Softmax_WeightsScoresAndNewEmbeddings(string implementation)
    {
        var (output, weights) = Run(implementation, AttentionNormalization.Softmax);
        AssertEqual(s_softmaxWeights, weights, $"{implementation} softmax weights");
        AssertEqual(s_softmaxOutput, output, $"{implementation} softmax new embeddings");

        // The scores, recovered from the weights: ln(w_ij / w_i0) = s_ij − s_i0, since softmax divides by a common sum.
        for (int i = 0; i < 3; i++)
        {
            for (int j = 1; j < 3; j++)
            {
                double difference = Math.Log((double)weights[i, j] / weights[i, 0]);
                double expected = s_scores[i, j] - s_scores[i, 0];
                Assert.True(Math.Abs(difference - expected) <= Tolerance, $"{implementation}: s[{i},{j}] − s[{i},0] from the weights is {difference:R}, expected {expected:R}.");
            }
        }

        // The output without the weights overload is the same.
        var plain = new float[3, 4];
        Compute(implementation, AttentionNormalization.Softmax, plain, null);
        AssertEqual(s_softmaxOutput, plain, $"{implementation} softmax new embeddings (without weights)");
    }

    [Theory]
    [MemberData(nameof(Implementations))]
    public void SumNormalisation_WeightsAndNewEmbeddings(string implementation)
    {
        var (output, weights) = Run(implementation, AttentionNormalization.Sum);
        AssertEqual(s_sumWeights, weights, $"{implementation} sum-normalised weights");
        AssertEqual(s_sumOutput, output, $"{implementation} sum-normalised new embeddings");

        // With Sum normalisation w_ij / w_i0 = s_ij / s_i0.
        for (int i = 0; i < 3; i++)
        {
            for (int j = 1; j < 3; j++)
            {
                double ratio = (double)weights[i, j] / weights[i, 0];
                Assert.True(Math.Abs(ratio - s_scores[i, j] / s_scores[i, 0]) <= Tolerance, $"{implementation}: w[{i},{j}] / w[{i},0] = {ratio:R}, expected {s_scores[i, j] / s_scores[i, 0]:R}.");
            }
        }
    }

    private static (float[,] Output, float[,] Weights) Run(string implementation, AttentionNormalization normalization)
    {
        var output = new float[3, 4];
        var weights = new float[3, 3];
        Compute(implementation, normalization, output, weights);
        return (output, weights);
    }

    private static void Compute(string implementation, AttentionNormalization normalization, float[,] output, float[,]? weights)
    {
        var x = new ReadOnlySpan2D<float>(s_x, 3, 4);
        bool reference = implementation == "Reference";
        var options = new AttentionOptions
        {
            Scale = 1f,
            Normalization = normalization,
            Kernel = reference ? AttentionKernel.Auto : Enum.Parse<AttentionKernel>(implementation),
        };
        if (weights is null)
        {
            if (reference)
            {
                NaiveAttention.Compute(x, x, x, output.AsSpan2D(), options);
            }
            else
            {
                Attention.Compute(x, x, x, output.AsSpan2D(), options);
            }
        }
        else if (reference)
        {
            NaiveAttention.Compute(x, x, x, output.AsSpan2D(), weights.AsSpan2D(), options);
        }
        else
        {
            Attention.Compute(x, x, x, output.AsSpan2D(), weights.AsSpan2D(), options);
        }
    }

    private static void AssertEqual(double[,] expected, float[,] actual, string what)
    {
        for (int i = 0; i < expected.GetLength(0); i++)
        {
            for (int c = 0; c < expected.GetLength(1); c++)
            {
                Assert.True(Math.Abs(actual[i, c] - expected[i, c]) <= Tolerance, $"{what} [{i}, {c}] = {actual[i, c]:R}, expected {expected[i, c]} (tolerance {Tolerance}).");
            }
        }
    }
}
