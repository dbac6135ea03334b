using CommunityToolkit.HighPerformance;
using SelfAttention.Reference;

namespace SelfAttention.Cli.Walkthrough;

/// <summary>
/// The few matrix steps the walkthroughs show, each done with the library's public API: projections through
/// <see cref="AttentionPrimitives.WeightedSum"/> (row i of X·W is Σ_c X[i, c]·W[c, :]), raw scores through
/// <see cref="AttentionPrimitives.Dot"/>, attention through <see cref="Attention.Compute(ReadOnlySpan2D{float}, ReadOnlySpan2D{float}, ReadOnlySpan2D{float}, Span2D{float}, Span2D{float}, AttentionOptions)"/>.
/// </summary>
internal static class StepMath
{
    /// <summary>x <c>[rows, inDim]</c> · w <c>[inDim, outDim]</c> → <c>[rows, outDim]</c>.</summary>
    public static float[] Project(float[] x, int rows, int inDim, ReadOnlySpan<float> w, int outDim)
    {
        var result = new float[rows * outDim];
        for (int i = 0; i < rows; i++)
        {
            AttentionPrimitives.WeightedSum(x.AsSpan(i * inDim, inDim), w, result.AsSpan(i * outDim, outDim));
        }

        return result;
    }

    /// <summary>scale · q <c>[queryRows, dim]</c> · kᵀ (k <c>[keyRows, dim]</c>) → <c>[queryRows, keyRows]</c>.</summary>
    public static float[] Scores(float[] q, int queryRows, float[] k, int keyRows, int dim, float scale)
    {
        var scores = new float[queryRows * keyRows];
        for (int i = 0; i < queryRows; i++)
        {
            for (int j = 0; j < keyRows; j++)
            {
                scores[i * keyRows + j] = scale * AttentionPrimitives.Dot(q.AsSpan(i * dim, dim), k.AsSpan(j * dim, dim));
            }
        }

        return scores;
    }

    /// <summary>
    /// One head of attention with the weights: returns the output <c>[queryRows, valueDim]</c> and writes the weights
    /// <c>[queryRows, keyRows]</c>. <paramref name="oracleDifference"/> is the largest |difference| from
    /// <see cref="NaiveAttention"/> (double accumulation) on the same input, output and weights together.
    /// </summary>
    public static float[] Attend(float[] q, int queryRows, float[] k, float[] v, int keyRows, int dim, int valueDim,
                                 AttentionOptions options, out float[] weights, out double oracleDifference)
    {
        var output = new float[queryRows * valueDim];
        weights = new float[queryRows * keyRows];
        var query = new ReadOnlySpan2D<float>(q, queryRows, dim);
        var key = new ReadOnlySpan2D<float>(k, keyRows, dim);
        var value = new ReadOnlySpan2D<float>(v, keyRows, valueDim);
        Attention.Compute(query, key, value, new Span2D<float>(output, queryRows, valueDim), new Span2D<float>(weights, queryRows, keyRows), options);

        var oracleOutput = new float[output.Length];
        var oracleWeights = new float[weights.Length];
        NaiveAttention.Compute(query, key, value, new Span2D<float>(oracleOutput, queryRows, valueDim),
                               new Span2D<float>(oracleWeights, queryRows, keyRows), options);
        oracleDifference = Math.Max(MaxDifference(output, oracleOutput), MaxDifference(weights, oracleWeights));
        return output;
    }

    /// <summary>max |a − b| over the elements.</summary>
    public static double MaxDifference(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double max = 0;
        for (int i = 0; i < a.Length; i++)
        {
            max = Math.Max(max, Math.Abs((double)a[i] - b[i]));
        }

        return max;
    }

    /// <summary>Row <paramref name="row"/> of a <c>[*, width]</c> matrix, copied.</summary>
    public static float[] Row(float[] matrix, int row, int width) => matrix.AsSpan(row * width, width).ToArray();

    /// <summary>Puts matrices of the same height side by side: column blocks in order.</summary>
    public static float[] SideBySide(int rows, params float[][] blocks)
    {
        int columns = blocks.Sum(b => b.Length / rows);
        var result = new float[rows * columns];
        int offset = 0;
        foreach (float[] block in blocks)
        {
            int width = block.Length / rows;
            for (int i = 0; i < rows; i++)
            {
                block.AsSpan(i * width, width).CopyTo(result.AsSpan(i * columns + offset, width));
            }

            offset += width;
        }

        return result;
    }

    /// <summary>The oracle check as one sentence for a step's explanation.</summary>
    public static string OracleNote(double difference) =>
        FormattableString.Invariant($"Checked against the naive reference (double sums): largest difference {difference:0.0e+0}.");
}
