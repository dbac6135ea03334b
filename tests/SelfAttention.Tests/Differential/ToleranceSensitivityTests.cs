using SelfAttention.Tests.Helpers;
using Xunit;
using Xunit.Sdk;

namespace SelfAttention.Tests.Differential;

/// <summary>
/// The differential tolerances are tight enough to catch the faults a kernel could plausibly have: a scale off by 1 % (which Sum normalisation must ignore),
/// a mask applied or dropped, the first value row lost. Each fault is injected into the inputs or options of a correct
/// call, and the comparison with the unperturbed reference must fail, including under the wide magnitude-30 slack.
/// </summary>
public class ToleranceSensitivityTests
{
    private static readonly AttentionCase[] s_cases =
    [
        new AttentionCase(65, 65, 64, 64) { IsCausal = true, Seed = 101 },
        new AttentionCase(63, 63, 7, 7) { Scale = 1f, IsCausal = true, Seed = 102 },
        new AttentionCase(129, 129, 128, 128, 30f) { IsCausal = true, Seed = 103 },
        new AttentionCase(33, 33, 65, 65) { Normalization = AttentionNormalization.Sum, PositiveScores = true, IsCausal = true, Seed = 104 },
    ];

    public enum Fault { ScaleOffByOnePercent, MaskDropped, FirstValueRowZeroed }

    public static TheoryData<int, Fault, AttentionKernel> Cases
    {
        get
        {
            var data = new TheoryData<int, Fault, AttentionKernel>();
            for (int index = 0; index < s_cases.Length; index++)
            {
                foreach (var fault in Enum.GetValues<Fault>())
                {
                    foreach (var kernel in TestInputs.Kernels)
                    {
                        data.Add(index, fault, kernel);
                    }
                }
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void InjectedFault_IsDetected(int caseIndex, Fault fault, AttentionKernel kernel)
    {
        var problem = ProblemCache.Get(s_cases[caseIndex]);
        var @case = problem.Case;
        var options = @case.Options(kernel);
        var value = problem.Value;
        switch (fault)
        {
            case Fault.ScaleOffByOnePercent:
                options = options with { Scale = @case.EffectiveScale * 1.01f };
                break;
            case Fault.MaskDropped:
                options = options with { IsCausal = false };
                break;
            default:
                value = GuardedMatrix.Input(@case.KeyLength, @case.ValueDim, problem.Value.ToDense().Select((x, index) => index < @case.ValueDim ? 0f : x).ToArray(), new Random(1), pitched: true);
                break;
        }

        var output = problem.NewOutput(new Random(2));
        Attention.Compute(problem.Query.ReadOnlyView, problem.Key.ReadOnlyView, value.ReadOnlyView, output.View, options);
        var (tolerance, slack) = AttentionTolerance.Output(problem);
        if (fault == Fault.ScaleOffByOnePercent && @case.Normalization == AttentionNormalization.Sum)
        {
            // s / Σs does not depend on the scale, so this "fault" must not change the result.
            Oracle.AssertClose(problem.ExpectedOutput, output.ToDense(), @case.QueryLength, @case.ValueDim, tolerance, $"{kernel}, sum normalisation ignores the scale, {@case}", slack);
            return;
        }

        Assert.ThrowsAny<XunitException>(() => Oracle.AssertClose(problem.ExpectedOutput, output.ToDense(), @case.QueryLength, @case.ValueDim, tolerance, $"{kernel} with {fault}, {@case}", slack));
    }
}
