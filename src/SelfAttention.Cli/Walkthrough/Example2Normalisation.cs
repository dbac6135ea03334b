using SelfAttention.Tokenization;
using static SelfAttention.Cli.Walkthrough.StepMath;

namespace SelfAttention.Cli.Walkthrough;

/// <summary>
/// Example 2, "Dream big and work for it": from text to token ids to embeddings from a seeded table, then one query
/// ("big") against every key, normalised two ways: the plain "divide by the sum" and the softmax.
/// </summary>
internal static class Example2Normalisation
{
    public const string Sentence = "Dream big and work for it";
    public const string QueryToken = "big";
    public const int Dim = 4;
    public const ulong Seed = 2;

    public static WalkthroughExample Build()
    {
        var tokenizer = new WordTokenizer();
        var vocabulary = Vocabulary.Build([Sentence], tokenizer);
        int[] ids = tokenizer.Encode(Sentence, vocabulary);
        string[] tokens = tokenizer.Split(Sentence).ToArray();
        int n = ids.Length, queryIndex = Array.IndexOf(tokens, QueryToken);
        var table = EmbeddingTable.CreateRandom(vocabulary.Count, Dim, Seed);
        var x = new float[n * Dim];
        table.Lookup(ids, x);
        var dims = LabelledMatrix.DimensionLabels(Dim);
        float scale = 1 / MathF.Sqrt(Dim);

        float[] query = Row(x, queryIndex, Dim);
        float[] rawScores = Scores(query, 1, x, n, Dim, 1f);
        float[] scaledScores = Scores(query, 1, x, n, Dim, scale);
        float[] sumContext = Attend(query, 1, x, x, n, Dim, Dim, new AttentionOptions { Normalization = AttentionNormalization.Sum },
                                    out float[] sumWeights, out double sumCheck);
        float[] softmaxContext = Attend(query, 1, x, x, n, Dim, Dim, default, out float[] softmaxWeights, out double softmaxCheck);
        string[] queryLabel = [QueryToken];

        return new WalkthroughExample(2, "From text to a context vector; divide-by-the-sum against softmax", Sentence,
        [
            new("Tokenization",
                $"A word tokenizer lowercases the text and splits it into words; a vocabulary built from the sentence gives each word an id (id 0 is reserved for unknown words, {vocabulary.UnknownToken}).",
                [new("token ids", tokens, ["id"], ids.Select(id => (float)id).ToArray(), CellFormat.Integer)]),
            new("Embeddings",
                FormattableString.Invariant($"Each id looks up a row of an embedding table. This table is random, uniform in [−1, 1), seeded with {Seed}: the same on every machine. A trained model would have learned these rows."),
                [new("X", tokens, dims, x)]),
            new($"The query \"{QueryToken}\" against every key",
                FormattableString.Invariant($"One query row (\"{QueryToken}\") is scored against every key row: the dot products, then scaled by 1/√{Dim} = {scale:0.###}."),
                [new("scores", tokens, ["q·k", "q·k/√d"], SideBySide(n, rawScores, scaledScores))]),
            new("Divide by the sum, and softmax",
                "Two ways to turn the scaled scores into weights that sum to 1. Dividing by the sum is the plain normalisation: it works while the scores are positive, but a negative score gives a negative weight, and a sum near zero blows the weights up. "
                + "The softmax exponentiates first, so every weight is positive and a larger score always gets a larger weight.",
                [new("weights", tokens, ["÷ sum", "softmax"], SideBySide(n, sumWeights, softmaxWeights))]),
            new($"The context vector of \"{QueryToken}\"",
                "The weighted sum of the value rows (here the embeddings) under each normalisation: the new, context-aware embedding of the query. "
                + OracleNote(Math.Max(sumCheck, softmaxCheck)),
                [new("÷ sum", queryLabel, dims, sumContext), new("softmax", queryLabel, dims, softmaxContext)]),
            new("Attention of the query, as a row",
                "The softmax weights as a one-row attention map (what the heatmap draws).",
                [new("weights", queryLabel, tokens, softmaxWeights) { IsAttentionWeights = true },
                 new("÷ sum weights", queryLabel, tokens, sumWeights) { IsAttentionWeights = true }]),
        ]);
    }
}
