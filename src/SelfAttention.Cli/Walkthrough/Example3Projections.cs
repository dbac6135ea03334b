using static SelfAttention.Cli.Walkthrough.StepMath;

namespace SelfAttention.Cli.Walkthrough;

/// <summary>
/// Example 3, "Write a poem": the transformer form. Sinusoidal positions are added to two-number embeddings; seeded
/// 2×2 weight matrices project them to queries, keys and values; scaled scores, softmax (as percentages) and output.
/// </summary>
internal static class Example3Projections
{
    public const string Sentence = "Write a poem";
    public const int Dim = 2;
    public const ulong Seed = 3;

    public static readonly string[] Tokens = ["Write", "a", "poem"];

    public static readonly float[] Embeddings =
    [
        1.16f, 0.23f,
        0.57f, 1.36f,
        4.41f, -2.16f,
    ];

    /// <summary>The embeddings plus sinusoidal positions, <c>[3, 2]</c>: the input of examples 3 and 4.</summary>
    public static float[] PositionedInput(out float[] positions)
    {
        positions = new float[Embeddings.Length];
        PositionalEncoding.WriteSinusoidal(positions, Tokens.Length, Dim);
        float[] input = (float[])Embeddings.Clone();
        PositionalEncoding.AddSinusoidal(input, Tokens.Length, Dim);
        return input;
    }

    public static WalkthroughExample Build()
    {
        int n = Tokens.Length;
        var dims = LabelledMatrix.DimensionLabels(Dim);
        float[] x = PositionedInput(out float[] positions);

        // W_q, W_k, W_v drawn in that order from one seeded stream, uniform in [−1, 1).
        var random = new DeterministicRandom(Seed);
        var wq = new float[Dim * Dim];
        var wk = new float[Dim * Dim];
        var wv = new float[Dim * Dim];
        random.Fill(wq, -1f, 1f);
        random.Fill(wk, -1f, 1f);
        random.Fill(wv, -1f, 1f);
        float[] q = Project(x, n, Dim, wq, Dim);
        float[] k = Project(x, n, Dim, wk, Dim);
        float[] v = Project(x, n, Dim, wv, Dim);
        float scale = 1 / MathF.Sqrt(Dim);
        float[] scores = Scores(q, n, k, n, Dim, scale);
        float[] output = Attend(q, n, k, v, n, Dim, Dim, default, out float[] weights, out double check);
        var inputs = LabelledMatrix.DimensionLabels(Dim, "in");
        var outs = LabelledMatrix.DimensionLabels(Dim, "out");

        return new WalkthroughExample(3, "Positions, learned projections Q, K, V, and the weights as percentages", Sentence,
        [
            new("Embeddings",
                "Two numbers per word: small enough to follow every step by hand.",
                [new("embeddings", Tokens, dims, Embeddings)]),
            new("Sinusoidal positions added",
                "Attention itself ignores word order, so each position p adds a fixed pattern: sin(p) and cos(p) in two dimensions (the sinusoidal encoding of \"Attention Is All You Need\"). X = embeddings + positions.",
                [new("positions", Tokens, dims, positions), new("X", Tokens, dims, x)]),
            new("Weights W_q, W_k, W_v",
                FormattableString.Invariant($"A transformer learns three matrices that turn X into queries, keys and values. These are random, uniform in [−1, 1), seeded with {Seed}; rows are input dimensions, columns output dimensions."),
                [new("W_q", inputs, outs, wq), new("W_k", inputs, outs, wk), new("W_v", inputs, outs, wv)]),
            new("Q = X·W_q, K = X·W_k, V = X·W_v",
                "Each token's query asks \"what am I looking for\", its key says \"what do I offer\", its value is what it hands over.",
                [new("Q", Tokens, dims, q), new("K", Tokens, dims, k), new("V", Tokens, dims, v)]),
            new("Scaled scores Q·Kᵀ/√d",
                FormattableString.Invariant($"Row i, column j: query i against key j, divided by √{Dim}."),
                [new("scores", Tokens, Tokens, scores)]),
            new("Softmax, as percentages",
                "How much each word (row) draws on each other word (column); every row adds up to 100%.",
                [new("weights", Tokens, Tokens, weights, CellFormat.Percent) { IsAttentionWeights = true }]),
            new("Output",
                "Each row is the weighted mix of the value rows: the new embedding of that word. " + OracleNote(check),
                [new("output", Tokens, dims, output)]),
        ]);
    }
}
