using SelfAttention.Tests.Helpers;
using Xunit;

namespace SelfAttention.Tests.Differential;

/// <summary>Every kernel against <see cref="Reference.NaiveAttention"/> on the shapes of <see cref="DifferentialCases"/>.</summary>
public class SingleHeadDifferentialTests
{
    public static TheoryData<string, AttentionKernel> Cases => DifferentialCases.CasesAndKernels;

    /// <summary>
    /// Output within <see cref="AttentionTolerance.Output"/> of the reference; guards around the output and in its pitch
    /// gaps untouched; inputs (NaN in their gaps) unchanged; rows that see no key exactly zero; and every degree of
    /// parallelism gives bit-identical results.
    /// </summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void Output_MatchesReference(string caseName, AttentionKernel kernel)
    {
        var problem = ProblemCache.Get(DifferentialCases.ByName[caseName]);
        var @case = problem.Case;
        var rng = new Random(@case.Seed);
        string context = $"{kernel}, {@case}";

        float[] actual = problem.Run(kernel, 1, rng).ToDense();
        var (tolerance, slack) = AttentionTolerance.Output(problem);
        Oracle.AssertClose(problem.ExpectedOutput, actual, @case.QueryLength, @case.ValueDim, tolerance, context, slack);

        for (int i = 0; i < @case.QueryLength; i++)
        {
            if (problem.VisibleKeys(i) == 0)
            {
                for (int c = 0; c < @case.ValueDim; c++)
                {
                    Assert.True(actual[i * @case.ValueDim + c] == 0f, $"{context}: row {i} sees no key, so output[{i}, {c}] must be 0, actual {actual[i * @case.ValueDim + c]}.");
                }
            }
        }

        foreach (int degree in new[] { 0, 2, -1 })
        {
            float[] parallel = problem.Run(kernel, degree, rng).ToDense();
            Oracle.AssertBitIdentical(actual, parallel, $"{context}: MaxDegreeOfParallelism {degree} vs 1");
        }
    }
}
