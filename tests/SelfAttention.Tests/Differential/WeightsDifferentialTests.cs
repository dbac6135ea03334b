using SelfAttention.Tests.Helpers;
using Xunit;

namespace SelfAttention.Tests.Differential;

/// <summary>The weights overload of every kernel against the reference output and weights.</summary>
public class WeightsDifferentialTests
{
    public static TheoryData<string, AttentionKernel> Cases => DifferentialCases.CasesAndKernels;

    /// <summary>
    /// Output and weights within tolerance of the reference (see <see cref="AttentionTolerance"/>), masked weights exactly
    /// zero, guards of both outputs untouched, and the output equal to what the overload without weights computes.
    /// </summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void OutputAndWeights_MatchReference(string caseName, AttentionKernel kernel)
    {
        var problem = ProblemCache.Get(DifferentialCases.ByName[caseName]);
        var @case = problem.Case;
        var rng = new Random(@case.Seed + 1);
        string context = $"{kernel} with weights, {@case}";

        var (output, weights) = problem.RunWithWeights(kernel, 1, rng);
        float[] actualOutput = output.ToDense(), actualWeights = weights.ToDense();

        var (weightTolerance, weightSlack) = AttentionTolerance.Weights(problem);
        Oracle.AssertClose(problem.ExpectedWeights, actualWeights, @case.QueryLength, @case.KeyLength, weightTolerance, $"{context}, weights", weightSlack);
        var (outputTolerance, outputSlack) = AttentionTolerance.Output(problem);
        Oracle.AssertClose(problem.ExpectedOutput, actualOutput, @case.QueryLength, @case.ValueDim, outputTolerance, $"{context}, output", outputSlack);

        for (int i = 0; i < @case.QueryLength; i++)
        {
            for (int j = problem.VisibleKeys(i); j < @case.KeyLength; j++)
            {
                Assert.True(actualWeights[i * @case.KeyLength + j] == 0f, $"{context}: key {j} is masked for row {i}, so its weight must be 0, actual {actualWeights[i * @case.KeyLength + j]}.");
            }
        }

        var (parallelOutput, parallelWeights) = problem.RunWithWeights(kernel, -1, rng);
        Oracle.AssertBitIdentical(actualOutput, parallelOutput.ToDense(), $"{context}: output, MaxDegreeOfParallelism -1 vs 1");
        Oracle.AssertBitIdentical(actualWeights, parallelWeights.ToDense(), $"{context}: weights, MaxDegreeOfParallelism -1 vs 1");
    }
}
