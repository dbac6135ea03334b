using static SelfAttention.Cli.Walkthrough.StepMath;

namespace SelfAttention.Cli.Walkthrough;

/// <summary>
/// Example 4: the sentence of example 3 through a two-head attention layer with seeded weights. Each head has its own
/// projections and its own attention pattern; the heads' outputs are concatenated and projected back to the model
/// width. The steps are done one by one, then checked against <see cref="MultiHeadAttention.Forward(ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float}, Span{float}, AttentionWeightsMode, int, int, int, AttentionOptions)"/>.
/// </summary>
internal static class Example4MultiHead
{
    public const int Heads = 2;
    public const int HeadDim = 2;
    public const ulong Seed = 4;

    public static WalkthroughExample Build()
    {
        string[] tokens = Example3Projections.Tokens;
        int n = tokens.Length, modelDim = Example3Projections.Dim, width = Heads * HeadDim;
        float[] x = Example3Projections.PositionedInput(out _);
        var layer = MultiHeadAttention.CreateRandom(modelDim, Heads, Seed, headDim: HeadDim, useBias: false);

        float[] q = Project(x, n, modelDim, layer.QueryWeights, width);
        float[] k = Project(x, n, modelDim, layer.KeyWeights, width);
        float[] v = Project(x, n, modelDim, layer.ValueWeights, width);
        var context = new float[n * width];
        var headWeights = new float[Heads][];
        var headSteps = new List<WalkthroughStep>();
        double check = 0;
        for (int h = 0; h < Heads; h++)
        {
            float[] qh = Columns(q, n, width, h * HeadDim, HeadDim);
            float[] kh = Columns(k, n, width, h * HeadDim, HeadDim);
            float[] vh = Columns(v, n, width, h * HeadDim, HeadDim);
            float[] oh = Attend(qh, n, kh, vh, n, HeadDim, HeadDim, default, out headWeights[h], out double headCheck);
            check = Math.Max(check, headCheck);
            for (int i = 0; i < n; i++)
            {
                oh.AsSpan(i * HeadDim, HeadDim).CopyTo(context.AsSpan(i * width + h * HeadDim, HeadDim));
            }

            var dims = LabelledMatrix.DimensionLabels(HeadDim);
            headSteps.Add(new WalkthroughStep($"Head {h}",
                $"Head {h} takes columns {h * HeadDim}–{h * HeadDim + HeadDim - 1} of Q, K and V and runs scaled dot-product attention on its own: its own weights, its own output.",
                [new($"Q{h}", tokens, dims, qh), new($"K{h}", tokens, dims, kh), new($"V{h}", tokens, dims, vh),
                 new($"head {h} weights", tokens, tokens, headWeights[h], CellFormat.Percent) { IsAttentionWeights = true },
                 new($"head {h} output", tokens, dims, oh)]));
        }

        float[] output = Project(context, n, width, layer.OutputWeights, modelDim);

        // The same layer in one call, for the check in the last step.
        var layerOutput = new float[n * modelDim];
        var layerWeights = new float[Heads * n * n];
        layer.Forward(x, x, layerOutput, layerWeights, AttentionWeightsMode.PerHead, 1, n, n);
        double layerDifference = Math.Max(MaxDifference(output, layerOutput), MaxDifference(headWeights.SelectMany(w => w).ToArray(), layerWeights));

        var model = LabelledMatrix.DimensionLabels(modelDim);
        var all = LabelledMatrix.DimensionLabels(width);
        var steps = new List<WalkthroughStep>
        {
            new("Input X",
                "The embeddings of \"Write a poem\" with sinusoidal positions added, as in example 3.",
                [new("X", tokens, model, x)]),
            new("Projections for all heads at once",
                FormattableString.Invariant($"A layer with {Heads} heads of {HeadDim} dimensions projects X to {width} columns of Q, K and V at once (Xavier-uniform weights, seeded with {Seed}, no biases). Head h owns columns {HeadDim}h to {HeadDim}h+{HeadDim - 1}."),
                [new("W_q", LabelledMatrix.DimensionLabels(modelDim, "in"), all, layer.QueryWeights.ToArray()),
                 new("Q", tokens, all, q), new("K", tokens, all, k), new("V", tokens, all, v)]),
        };
        steps.AddRange(headSteps);
        steps.Add(new("Concatenate the heads",
            "The heads' outputs side by side: each token now carries what every head found.",
            [new("concat", tokens, all, context)]));
        steps.Add(new("Output projection",
            "W_o maps the concatenation back to the model width: the layer's output. " + OracleNote(check)
            + FormattableString.Invariant($" The same layer in one MultiHeadAttention.Forward call agrees to {layerDifference:0.0e+0}."),
            [new("W_o", LabelledMatrix.DimensionLabels(width, "in"), model, layer.OutputWeights.ToArray()),
             new("output", tokens, model, output)]));

        return new WalkthroughExample(4, "Several heads, each with its own attention pattern, and the output projection",
                                      Example3Projections.Sentence, steps);
    }

    private static float[] Columns(float[] matrix, int rows, int width, int first, int count)
    {
        var result = new float[rows * count];
        for (int i = 0; i < rows; i++)
        {
            matrix.AsSpan(i * width + first, count).CopyTo(result.AsSpan(i * count, count));
        }

        return result;
    }
}
