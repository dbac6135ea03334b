using SelfAttention.Tests.Helpers;
using Xunit;

namespace SelfAttention.Tests.Semantics;

/// <summary>
/// NaN in the inputs gives NaN in exactly the affected output rows (and columns), with no exception or hang; rows that
/// cannot see the NaN stay finite and correct. The shapes cross the vector widths and the query and key tiles.
/// </summary>
public class NaNPropagationTests
{
    public enum Where { QueryRow, KeyRow, ValueElement }

    public static TheoryData<AttentionKernel, Where, int, int, bool, AttentionNormalization> Cases
    {
        get
        {
            var data = new TheoryData<AttentionKernel, Where, int, int, bool, AttentionNormalization>();
            foreach (var kernel in TestInputs.Kernels)
            {
                foreach (var where in Enum.GetValues<Where>())
                {
                    data.Add(kernel, where, 17, 17, false, AttentionNormalization.Softmax);
                    data.Add(kernel, where, 17, 17, true, AttentionNormalization.Softmax);
                    data.Add(kernel, where, 70, 130, true, AttentionNormalization.Softmax);
                    data.Add(kernel, where, 130, 70, true, AttentionNormalization.Softmax);
                    data.Add(kernel, where, 1, 40, false, AttentionNormalization.Softmax);
                    data.Add(kernel, where, 33, 33, true, AttentionNormalization.Sum);
                }
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void NaN_ReachesExactlyTheRowsThatSeeIt(AttentionKernel kernel, Where where, int nq, int nk, bool causal, AttentionNormalization normalization)
    {
        const int d = 16, dv = 19;
        var rng = new Random(nq * 1000 + nk);
        var options = new AttentionOptions { IsCausal = causal, Normalization = normalization, Kernel = kernel };
        bool positive = normalization == AttentionNormalization.Sum;
        float[] q = positive ? TestInputs.Between(rng, nq * d, 0.1f, 1f) : TestInputs.Uniform(rng, nq * d, 1f);
        float[] k = positive ? TestInputs.Between(rng, nk * d, 0.1f, 1f) : TestInputs.Uniform(rng, nk * d, 1f);
        float[] v = TestInputs.Uniform(rng, nk * dv, 1f);

        // Poison one row (or element) in the middle, so some rows see it and, when causal, some do not.
        int poisonedRow = where == Where.QueryRow ? nq / 2 : nk / 2;
        int poisonedColumn = dv - 2;
        switch (where)
        {
            case Where.QueryRow: q[poisonedRow * d + 3] = float.NaN; break;
            case Where.KeyRow: k[poisonedRow * d + 5] = float.NaN; break;
            default: v[poisonedRow * dv + poisonedColumn] = float.NaN; break;
        }

        var query = GuardedMatrix.Input(nq, d, q, rng, pitched: true);
        var key = GuardedMatrix.Input(nk, d, k, rng, pitched: true);
        var value = GuardedMatrix.Input(nk, dv, v, rng, pitched: true);
        var output = GuardedMatrix.Output(nq, dv, rng, pitched: true);
        var weights = GuardedMatrix.Output(nq, nk, rng, pitched: true);
        var plainOutput = GuardedMatrix.Output(nq, dv, rng, pitched: true);
        string context = $"{kernel}, NaN in {where} {poisonedRow}, nq={nq} nk={nk} d={d} dv={dv} causal={causal} norm={normalization}";

        Attention.Compute(query.ReadOnlyView, key.ReadOnlyView, value.ReadOnlyView, output.View, weights.View, options);
        Attention.Compute(query.ReadOnlyView, key.ReadOnlyView, value.ReadOnlyView, plainOutput.View, options);
        output.AssertGuardsIntact(context);
        weights.AssertGuardsIntact(context);
        plainOutput.AssertGuardsIntact(context);

        // The expected NaN pattern, from the definition alone.
        float[] actual = output.ToDense(), actualPlain = plainOutput.ToDense(), actualWeights = weights.ToDense();
        for (int i = 0; i < nq; i++)
        {
            int visible = causal ? (int)Math.Clamp((long)i + nk - nq + 1, 0, nk) : nk;
            bool rowSeesPoison = where == Where.QueryRow ? i == poisonedRow && visible > 0 : poisonedRow < visible;
            for (int c = 0; c < dv; c++)
            {
                bool expectNaN = where == Where.ValueElement ? rowSeesPoison && c == poisonedColumn : rowSeesPoison;
                Assert.True(float.IsNaN(actual[i * dv + c]) == expectNaN, $"{context}: output[{i}, {c}] = {actual[i * dv + c]}, expected {(expectNaN ? "NaN" : "finite")}.");
                Assert.True(float.IsNaN(actualPlain[i * dv + c]) == expectNaN, $"{context}: output without weights [{i}, {c}] = {actualPlain[i * dv + c]}, expected {(expectNaN ? "NaN" : "finite")}.");
            }

            for (int j = 0; j < nk; j++)
            {
                bool expectNaN = where != Where.ValueElement && rowSeesPoison && j < visible;
                Assert.True(float.IsNaN(actualWeights[i * nk + j]) == expectNaN, $"{context}: weights[{i}, {j}] = {actualWeights[i * nk + j]}, expected {(expectNaN ? "NaN" : "finite")}.");
            }
        }

        // The finite part agrees with the reference, whose NaN pattern must be the same.
        var expected = new GuardedMatrix(nq, dv);
        var expectedWeights = new GuardedMatrix(nq, nk);
        Reference.NaiveAttention.Compute(query.ReadOnlyView, key.ReadOnlyView, value.ReadOnlyView, expected.View, expectedWeights.View, options);
        Oracle.AssertClose(expected.ToDense(), actual, nq, dv, Tolerance.Magnitude1, context);
        Oracle.AssertClose(expected.ToDense(), actualPlain, nq, dv, Tolerance.Magnitude1, $"{context}, without weights");

        // Weights at visible keys only: the reference's masked weights in a NaN row are checked on their own below.
        float[] referenceWeights = expectedWeights.ToDense();
        for (int i = 0; i < nq; i++)
        {
            int visible = causal ? (int)Math.Clamp((long)i + nk - nq + 1, 0, nk) : nk;
            for (int j = visible; j < nk; j++)
            {
                referenceWeights[i * nk + j] = 0f;
            }
        }

        Oracle.AssertClose(referenceWeights, actualWeights, nq, nk, Tolerance.Magnitude1, $"{context}, weights");
    }

    /// <summary>
    /// The reference documents masked weights as 0; that must hold in a row whose visible scores are NaN too (the
    /// kernels do this): a masked key is not "affected" by a NaN it cannot see.
    /// </summary>
    [Theory]
    [InlineData(AttentionNormalization.Softmax)]
    [InlineData(AttentionNormalization.Sum)]
    public void Reference_MaskedWeightsStayZeroInANaNRow(AttentionNormalization normalization)
    {
        const int n = 4, d = 2;
        float[] x = TestInputs.Between(new Random(1), n * d, 0.1f, 1f);
        x[1 * d] = float.NaN; // query row 1 (q = k = v = x), which sees keys 0 and 1
        var view = new CommunityToolkit.HighPerformance.ReadOnlySpan2D<float>(x, n, d);
        var output = new float[n, d];
        var weights = new float[n, n];
        var options = new AttentionOptions { IsCausal = true, Normalization = normalization };
        Reference.NaiveAttention.Compute(view, view, view, CommunityToolkit.HighPerformance.ArrayExtensions.AsSpan2D(output), CommunityToolkit.HighPerformance.ArrayExtensions.AsSpan2D(weights), options);
        Assert.True(float.IsNaN(weights[1, 0]) && float.IsNaN(weights[1, 1]), "row 1 sees the NaN key 1, so its visible weights are NaN.");
        Assert.True(weights[1, 2] == 0f && weights[1, 3] == 0f, $"NaiveAttention, causal, {normalization}: masked weights of a NaN row must be 0, actual [{weights[1, 2]}, {weights[1, 3]}].");
    }
}
