using Xunit;

namespace SelfAttention.Tests.Helpers;

/// <summary>
/// The guarded inputs of an <see cref="AttentionCase"/> (NaN in every gap, so an overread shows) and the reference
/// output and weights from <see cref="Reference.NaiveAttention"/>, computed once on those same views.
/// </summary>
public sealed class SingleHeadProblem
{
    public SingleHeadProblem(AttentionCase @case)
    {
        Case = @case;
        var rng = new Random(@case.Seed);
        int nq = @case.QueryLength, nk = @case.KeyLength, d = @case.HeadDim, dv = @case.ValueDim;
        float magnitude = @case.Magnitude;
        float[] q = @case.PositiveScores ? TestInputs.Between(rng, nq * d, 0.1f, magnitude) : TestInputs.Uniform(rng, nq * d, magnitude);
        float[] k = @case.PositiveScores ? TestInputs.Between(rng, nk * d, 0.1f, magnitude) : TestInputs.Uniform(rng, nk * d, magnitude);
        float[] v = TestInputs.Uniform(rng, nk * dv, magnitude);
        Query = GuardedMatrix.Input(nq, d, q, rng, @case.Pitched);
        Key = GuardedMatrix.Input(nk, d, k, rng, @case.Pitched);
        Value = GuardedMatrix.Input(nk, dv, v, rng, @case.Pitched);

        var output = new GuardedMatrix(nq, dv);
        var weights = new GuardedMatrix(nq, nk);
        Reference.NaiveAttention.Compute(Query.ReadOnlyView, Key.ReadOnlyView, Value.ReadOnlyView, output.View, weights.View, @case.Options());
        ExpectedOutput = output.ToDense();
        ExpectedWeights = weights.ToDense();
        AssertInputsUnchanged("reference");
    }

    public AttentionCase Case { get; }

    public GuardedMatrix Query { get; }

    public GuardedMatrix Key { get; }

    public GuardedMatrix Value { get; }

    public float[] ExpectedOutput { get; }

    public float[] ExpectedWeights { get; }

    /// <summary>A fresh guarded output for this problem, pre-filled with the sentinel.</summary>
    public GuardedMatrix NewOutput(Random rng) => GuardedMatrix.Output(Case.QueryLength, Case.ValueDim, rng, Case.Pitched);

    /// <summary>A fresh guarded weights matrix for this problem, pre-filled with the sentinel.</summary>
    public GuardedMatrix NewWeights(Random rng) => GuardedMatrix.Output(Case.QueryLength, Case.KeyLength, rng, Case.Pitched);

    public void AssertInputsUnchanged(string context)
    {
        Query.AssertUnchanged($"{context}, query");
        Key.AssertUnchanged($"{context}, key");
        Value.AssertUnchanged($"{context}, value");
    }

    /// <summary>
    /// Per row i, <c>S_i = scale · max_j Σ_c |q_ic·k_jc|</c> over the keys row i sees: a bound on the size of its
    /// scores. Float scores carry an absolute error of a small multiple of <c>u·S_i</c> (u = 2⁻²⁴), which the softmax
    /// turns into a relative error of the weights of the same size.
    /// </summary>
    public double[] RowScoreSize()
    {
        int nq = Case.QueryLength, d = Case.HeadDim;
        var size = new double[nq];
        for (int i = 0; i < nq; i++)
        {
            for (int j = 0; j < VisibleKeys(i); j++)
            {
                double sum = 0;
                for (int c = 0; c < d; c++)
                {
                    sum += Math.Abs((double)Query[i, c] * Key[j, c]);
                }

                size[i] = Math.Max(size[i], sum * Case.EffectiveScale);
            }
        }

        return size;
    }

    /// <summary>Per row i, <c>max |v_jc|</c> over the keys row i sees: turns a relative error of the weights into an output error.</summary>
    public double[] RowValueSize()
    {
        var size = new double[Case.QueryLength];
        for (int i = 0; i < size.Length; i++)
        {
            for (int j = 0; j < VisibleKeys(i); j++)
            {
                for (int c = 0; c < Case.ValueDim; c++)
                {
                    size[i] = Math.Max(size[i], Math.Abs(Value[j, c]));
                }
            }
        }

        return size;
    }

    /// <summary>How many keys query row i sees: all, or <c>i + nk − nq + 1</c> clamped to [0, nk] under the bottom-right causal mask.</summary>
    public int VisibleKeys(int i) =>
        Case.IsCausal ? (int)Math.Clamp((long)i + Case.KeyLength - Case.QueryLength + 1, 0, Case.KeyLength) : Case.KeyLength;

    /// <summary>Runs <see cref="Attention.Compute(CommunityToolkit.HighPerformance.ReadOnlySpan2D{float}, CommunityToolkit.HighPerformance.ReadOnlySpan2D{float}, CommunityToolkit.HighPerformance.ReadOnlySpan2D{float}, CommunityToolkit.HighPerformance.Span2D{float}, AttentionOptions)"/> into a fresh guarded output and checks guards and inputs.</summary>
    public GuardedMatrix Run(AttentionKernel kernel, int maxDegreeOfParallelism, Random rng)
    {
        var output = NewOutput(rng);
        Attention.Compute(Query.ReadOnlyView, Key.ReadOnlyView, Value.ReadOnlyView, output.View, Case.Options(kernel, maxDegreeOfParallelism));
        string context = $"{kernel} degree {maxDegreeOfParallelism}, {Case}";
        output.AssertGuardsIntact($"{context}, output");
        AssertInputsUnchanged(context);
        return output;
    }

    /// <summary>The weights overload into fresh guarded matrices, with guards and inputs checked.</summary>
    public (GuardedMatrix Output, GuardedMatrix Weights) RunWithWeights(AttentionKernel kernel, int maxDegreeOfParallelism, Random rng)
    {
        var output = NewOutput(rng);
        var weights = NewWeights(rng);
        Attention.Compute(Query.ReadOnlyView, Key.ReadOnlyView, Value.ReadOnlyView, output.View, weights.View, Case.Options(kernel, maxDegreeOfParallelism));
        string context = $"{kernel} degree {maxDegreeOfParallelism}, {Case}";
        output.AssertGuardsIntact($"{context}, output");
        weights.AssertGuardsIntact($"{context}, weights");
        AssertInputsUnchanged(context);
        Assert.Equal(Case.QueryLength, output.Height);
        return (output, weights);
    }
}
