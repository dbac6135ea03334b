namespace SelfAttention.Tests.Helpers;

/// <summary>
/// The tolerances of the differential tests, per case.
/// <para>
/// Magnitude 1, default scale: outputs within abs 2e-5 + rel 2e-4 (measured errors are ~100 times smaller), weights
/// within abs 2e-6 + rel 2e-4.
/// </para>
/// <para>
/// Larger inputs or a custom scale: with inputs of magnitude 30 the scores reach ~900·d·scale (thousands), so the float
/// rounding of a score alone is ~u·|score| ≈ 1e-4, and the softmax turns an absolute score error δ into a relative
/// weight error of up to 2δ, an output error of up to 2δ·max|v − o|. The reference scores are exact (double), so no
/// float kernel can do better than this. Each row therefore gets a slack of <see cref="ScoreSlackFactor"/>·u·S_i·V_i,
/// with S_i the largest |score| of row i (see <see cref="SingleHeadProblem.RowScoreSize"/>) and V_i its largest |v|;
/// measured errors reach about 1·u·S_i·V_i (tiled kernel, which rounds q·scale once more), so 16 leaves a margin of
/// more than 8 while a real fault (a wrong mask, key or head) costs O(V_i).
/// </para>
/// </summary>
public static class AttentionTolerance
{
    public const double ScoreSlackFactor = 16;

    /// <summary>Output tolerance: fixed at magnitude 1, scaled by the magnitude otherwise, plus the score slack when scores can be large.</summary>
    public static (Tolerance Tolerance, double[]? RowSlack) Output(SingleHeadProblem problem)
    {
        double magnitude = problem.Case.Magnitude;
        var tolerance = new Tolerance(2e-5 * magnitude, 2e-4, 2e-5);
        if (!NeedsScoreSlack(problem.Case))
        {
            return (tolerance, null);
        }

        double[] scores = problem.RowScoreSize(), values = problem.RowValueSize();
        var slack = new double[scores.Length];
        for (int i = 0; i < slack.Length; i++)
        {
            slack[i] = ScoreSlackFactor * Tolerance.FloatRoundoff * scores[i] * values[i];
        }

        return (tolerance, slack);
    }

    /// <summary>Weights tolerance (weights lie in [0, 1] for softmax): a relative weight error of 2δ per row when scores can be large.</summary>
    public static (Tolerance Tolerance, double[]? RowSlack) Weights(SingleHeadProblem problem)
    {
        var tolerance = new Tolerance(2e-6, 2e-4, 2e-5);
        if (!NeedsScoreSlack(problem.Case))
        {
            return (tolerance, null);
        }

        double[] scores = problem.RowScoreSize();
        var slack = new double[scores.Length];
        for (int i = 0; i < slack.Length; i++)
        {
            slack[i] = ScoreSlackFactor * Tolerance.FloatRoundoff * scores[i];
        }

        return (tolerance, slack);
    }

    private static bool NeedsScoreSlack(AttentionCase @case) => @case.Magnitude > 1 || @case.Scale is not null;
}
