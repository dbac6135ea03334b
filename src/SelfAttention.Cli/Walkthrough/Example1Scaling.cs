using static SelfAttention.Cli.Walkthrough.StepMath;

namespace SelfAttention.Cli.Walkthrough;

/// <summary>
/// Example 1, "I love bears": the simplest self-attention, with queries, keys and values all equal to the embeddings
/// X. First unscaled (scores X·Xᵀ), then scaled by 1/√d, to show that scaling flattens the weights.
/// </summary>
internal static class Example1Scaling
{
    public const string Sentence = "I love bears";

    public static readonly string[] Tokens = ["I", "love", "bears"];

    public static readonly float[] Embeddings =
    [
        0.5f, 0.8f, 0.2f, 0.6f,
        0.7f, 0.1f, 0.9f, 0.3f,
        0.4f, 0.6f, 0.3f, 0.8f,
    ];

    public static WalkthroughExample Build()
    {
        const int n = 3, d = 4;
        float scale = 1 / MathF.Sqrt(d);
        var dims = LabelledMatrix.DimensionLabels(d);
        float[] x = Embeddings;

        float[] rawScores = Scores(x, n, x, n, d, 1f);
        float[] unscaledOutput = Attend(x, n, x, x, n, d, d, new AttentionOptions { Scale = 1f }, out float[] unscaledWeights, out double unscaledCheck);
        float[] scaledScores = Scores(x, n, x, n, d, scale);
        float[] scaledOutput = Attend(x, n, x, x, n, d, d, default, out float[] scaledWeights, out double scaledCheck);

        var largest = new float[n * 2];
        for (int i = 0; i < n; i++)
        {
            largest[2 * i] = unscaledWeights.AsSpan(i * n, n).ToArray().Max();
            largest[2 * i + 1] = scaledWeights.AsSpan(i * n, n).ToArray().Max();
        }

        return new WalkthroughExample(1, "Self-attention on the embeddings, unscaled and scaled", Sentence,
        [
            new("Embeddings X",
                "Each token is a row of four numbers. In this simplest form the queries, keys and values are all X itself.",
                [new("X", Tokens, dims, x)]),
            new("Scores X·Xᵀ (unscaled)",
                "Score[i, j] is the dot product of token i's and token j's embeddings: how similar they are. The diagonal is each token with itself.",
                [new("scores", Tokens, Tokens, rawScores)]),
            new("Softmax weights (unscaled)",
                "Each row goes through a softmax: subtract the row's maximum, exponentiate, divide by the sum. Every row is now positive and sums to 1: row i says how much token i draws on each token.",
                [new("weights", Tokens, Tokens, unscaledWeights) { IsAttentionWeights = true }]),
            new("Context-aware embeddings (unscaled)",
                "Output row i is the weighted sum of the value rows (here the embeddings) with row i's weights: token i's embedding, mixed with what it attends to. "
                + OracleNote(unscaledCheck),
                [new("output", Tokens, dims, unscaledOutput)]),
            new("Scaled scores X·Xᵀ/√d",
                FormattableString.Invariant($"Transformers divide the scores by √d = √{d} = {MathF.Sqrt(d):0.##} before the softmax, so that longer embeddings (larger dot products) do not push the softmax towards one-hot rows."),
                [new("scaled scores", Tokens, Tokens, scaledScores)]),
            new("Softmax weights (scaled)",
                "The same softmax on the scaled scores.",
                [new("weights", Tokens, Tokens, scaledWeights) { IsAttentionWeights = true }]),
            new("Context-aware embeddings (scaled)",
                "The weighted sums with the scaled weights. " + OracleNote(scaledCheck),
                [new("output", Tokens, dims, scaledOutput)]),
            new("What scaling changed",
                "The largest weight in each row, before and after scaling: smaller scores give a flatter softmax, so each token spreads its attention more evenly.",
                [new("largest weight per row", Tokens, ["unscaled", "scaled"], largest)]),
        ]);
    }
}
