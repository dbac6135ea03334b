using CommunityToolkit.HighPerformance;
using SelfAttention.Reference;
using SelfAttention.Tests.Helpers;
using Xunit;

namespace SelfAttention.Tests.Differential;

/// <summary>
/// <see cref="Attention.ComputeMultiHead"/> of every kernel against <see cref="NaiveAttention.ComputeMultiHead"/>:
/// batches, grouped-query (H = 8, KvH = 2) and multi-query (KvH = 1) attention, value dim ≠ head dim, causal with
/// nq ≠ nk both ways. The reference itself is checked head by head against single-head calls on copied heads.
/// </summary>
public class MultiHeadDifferentialTests
{
    private static readonly MultiHeadCase[] s_cases =
    [
        new(2, 17, 63, 8, 2, 64, 64),
        new(3, 65, 65, 8, 1, 16, 24) { IsCausal = true },
        new(1, 129, 127, 4, 4, 80, 80) { IsCausal = true, Seed = 2 },
        new(2, 1, 129, 8, 2, 128, 128) { Seed = 3 },
        new(2, 1, 129, 8, 2, 128, 128) { IsCausal = true, Seed = 4 },
        new(2, 40, 7, 6, 3, 7, 5) { IsCausal = true, Seed = 5 },
        new(4, 3, 3, 2, 1, 4, 4) { Seed = 6 },
        new(2, 33, 65, 4, 2, 65, 63) { Normalization = AttentionNormalization.Sum, PositiveScores = true, Seed = 7 },
        new(2, 63, 17, 4, 1, 63, 1) { Normalization = AttentionNormalization.Sum, PositiveScores = true, IsCausal = true, Seed = 8 },
        new(1, 64, 96, 8, 2, 32, 32, 30f) { IsCausal = true, Seed = 9 },
        new(2, 17, 17, 3, 3, 1, 3) { Scale = 1f, Seed = 10 },
        new(1, 7, 97, 12, 4, 64, 64) { Scale = 0.3f, IsCausal = true, Seed = 11 },
        new(2, 4, 72, 8, 4, 32, 32) { IsCausal = true, Seed = 12 },
        new(1, 2, 200, 4, 2, 20, 12) { IsCausal = true, Seed = 13 },
        new(1, 1, 1000, 6, 6, 64, 64) { Seed = 14 },
    ];

    public static TheoryData<int, AttentionKernel> CasesAndKernels
    {
        get
        {
            var data = new TheoryData<int, AttentionKernel>();
            for (int index = 0; index < s_cases.Length; index++)
            {
                foreach (var kernel in TestInputs.Kernels)
                {
                    data.Add(index, kernel);
                }
            }

            return data;
        }
    }

    public static TheoryData<int> CaseIndices
    {
        get
        {
            var data = new TheoryData<int>();
            for (int index = 0; index < s_cases.Length; index++)
            {
                data.Add(index);
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(CasesAndKernels))]
    public void Output_MatchesReference(int caseIndex, AttentionKernel kernel)
    {
        var @case = s_cases[caseIndex];
        var (query, key, value) = Inputs(@case);
        float[] expected = Reference(@case, query, key, value);
        string context = $"{kernel}, {@case}";

        var output = new GuardedBuffer(@case.OutputCount);
        Attention.ComputeMultiHead(query.Span, key.Span, value.Span, output.Span, @case.Shape, @case.Options(kernel, 1));
        output.AssertGuardsIntact($"{context}, output");
        AssertInputsUnchanged(context, query, key, value);

        // Magnitude 30 makes scores of ~900·d·scale; the tolerance grows with them as in AttentionTolerance (each
        // output row bounded by 16·u·max|score|·max|v| on top of the fixed part, here with the whole-tensor maxima).
        var tolerance = new Tolerance(2e-5 * @case.Magnitude, 2e-4, 2e-5);
        double[]? slack = null;
        if (@case.Magnitude > 1)
        {
            double scale = @case.Scale ?? 1 / Math.Sqrt(@case.HeadDim);
            double scoreSize = scale * @case.HeadDim * @case.Magnitude * @case.Magnitude, valueSize = @case.Magnitude;
            slack = Enumerable.Repeat(AttentionTolerance.ScoreSlackFactor * Tolerance.FloatRoundoff * scoreSize * valueSize, @case.Batch * @case.QueryLength * @case.Heads).ToArray();
        }

        Oracle.AssertClose(expected, output.ToArray(), @case.Batch * @case.QueryLength * @case.Heads, @case.ValueDim, tolerance, context, slack);

        foreach (int degree in new[] { 2, -1 })
        {
            var parallel = new GuardedBuffer(@case.OutputCount);
            Attention.ComputeMultiHead(query.Span, key.Span, value.Span, parallel.Span, @case.Shape, @case.Options(kernel, degree));
            parallel.AssertGuardsIntact($"{context}, degree {degree}, output");
            Oracle.AssertBitIdentical(output.ToArray(), parallel.ToArray(), $"{context}: MaxDegreeOfParallelism {degree} vs 1");
        }
    }

    /// <summary>
    /// The oracle's BSNH indexing and GQA mapping, checked independently: head h of batch b equals a single-head
    /// reference call on contiguous copies of query head h and of key/value head h / (H / KvH).
    /// </summary>
    [Theory]
    [MemberData(nameof(CaseIndices))]
    public void Reference_EqualsSingleHeadReferenceOnCopiedHeads(int caseIndex)
    {
        var @case = s_cases[caseIndex];
        var (query, key, value) = Inputs(@case);
        float[] multiHead = Reference(@case, query, key, value);
        int nq = @case.QueryLength, nk = @case.KeyLength, d = @case.HeadDim, dv = @case.ValueDim, heads = @case.Heads, kvHeads = @case.KvHeads;
        int group = heads / kvHeads;
        float[] q = query.ToArray(), k = key.ToArray(), v = value.ToArray();

        for (int b = 0; b < @case.Batch; b++)
        {
            for (int h = 0; h < heads; h++)
            {
                int g = h / group;
                float[] qh = CopyHead(q, b, nq, heads, h, d), kh = CopyHead(k, b, nk, kvHeads, g, d), vh = CopyHead(v, b, nk, kvHeads, g, dv);
                var oh = new float[nq * dv];
                NaiveAttention.Compute(new ReadOnlySpan2D<float>(qh, nq, d), new ReadOnlySpan2D<float>(kh, nk, d), new ReadOnlySpan2D<float>(vh, nk, dv),
                                       new Span2D<float>(oh, nq, dv), @case.Options());
                float[] expected = CopyHead(multiHead, b, nq, heads, h, dv);
                Oracle.AssertBitIdentical(oh, expected, $"reference head {h} (kv head {g}) of batch {b}, {@case}");
            }
        }
    }

    private static float[] CopyHead(float[] buffer, int batch, int rows, int heads, int head, int width)
    {
        var copy = new float[rows * width];
        for (int i = 0; i < rows; i++)
        {
            Array.Copy(buffer, ((batch * rows + i) * heads + head) * width, copy, i * width, width);
        }

        return copy;
    }

    internal static (GuardedBuffer Query, GuardedBuffer Key, GuardedBuffer Value) Inputs(MultiHeadCase @case)
    {
        var rng = new Random(@case.Seed);
        float m = @case.Magnitude;
        float[] q = @case.PositiveScores ? TestInputs.Between(rng, @case.QueryCount, 0.1f, m) : TestInputs.Uniform(rng, @case.QueryCount, m);
        float[] k = @case.PositiveScores ? TestInputs.Between(rng, @case.KeyCount, 0.1f, m) : TestInputs.Uniform(rng, @case.KeyCount, m);
        float[] v = TestInputs.Uniform(rng, @case.ValueCount, m);
        return (GuardedBuffer.Input(q), GuardedBuffer.Input(k), GuardedBuffer.Input(v));
    }

    private static float[] Reference(MultiHeadCase @case, GuardedBuffer query, GuardedBuffer key, GuardedBuffer value)
    {
        var output = new GuardedBuffer(@case.OutputCount);
        NaiveAttention.ComputeMultiHead(query.Span, key.Span, value.Span, output.Span, @case.Shape, @case.Options());
        output.AssertGuardsIntact($"reference, {@case}");
        AssertInputsUnchanged($"reference, {@case}", query, key, value);
        return output.ToArray();
    }

    private static void AssertInputsUnchanged(string context, GuardedBuffer query, GuardedBuffer key, GuardedBuffer value)
    {
        query.AssertUnchanged($"{context}, query");
        key.AssertUnchanged($"{context}, key");
        value.AssertUnchanged($"{context}, value");
    }
}
