namespace SelfAttention.Transformers.Reference;

/// <summary>
/// The oracle for <see cref="Norms"/>: the textbook formulas in double precision (the sum <c>input + residual</c>, the
/// mean, the biased variance of the centred values, one division per element), with the same validation as the fast
/// path and outputs in double.
/// </summary>
public static class NaiveNorms
{
    /// <summary>LayerNorm in double; see <see cref="Norms.LayerNorm"/>.</summary>
    /// <param name="input">The rows, <c>[rows × width]</c>.</param>
    /// <param name="residual">Added first, same length; empty for none.</param>
    /// <param name="gamma">The scale per column, <c>[width]</c>.</param>
    /// <param name="beta">The shift per column, <c>[width]</c>; empty for none.</param>
    /// <param name="output">The normalised rows, in double.</param>
    /// <param name="epsilon">Added to the variance.</param>
    /// <exception cref="ArgumentException">As <see cref="Norms.LayerNorm"/>.</exception>
    public static void LayerNorm(ReadOnlySpan<float> input, ReadOnlySpan<float> residual, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta,
                                 Span<double> output, float epsilon = 1e-5f)
    {
        Norms.Validate(input, residual, gamma, output, epsilon);
        if (!beta.IsEmpty && beta.Length != gamma.Length)
        {
            throw new ArgumentException($"beta.Length (gamma.Length, or 0 for none): expected {gamma.Length}, actual {beta.Length}.", nameof(beta));
        }

        int width = gamma.Length;
        var s = new double[width];
        for (int row = 0; row < input.Length / width; row++)
        {
            // Pass 1: the sum and its mean. Pass 2: the variance of the centred values. Pass 3: normalise.
            double mean = 0;
            for (int c = 0; c < width; c++)
            {
                s[c] = (double)input[row * width + c] + (residual.IsEmpty ? 0 : residual[row * width + c]);
                mean += s[c];
            }

            mean /= width;
            double variance = 0;
            for (int c = 0; c < width; c++)
            {
                variance += (s[c] - mean) * (s[c] - mean);
            }

            variance /= width;
            double std = Math.Sqrt(variance + epsilon);
            for (int c = 0; c < width; c++)
            {
                output[row * width + c] = (s[c] - mean) / std * gamma[c] + (beta.IsEmpty ? 0 : beta[c]);
            }
        }
    }

    /// <summary>RMSNorm in double; see <see cref="Norms.RmsNorm"/>.</summary>
    /// <param name="input">The rows, <c>[rows × width]</c>.</param>
    /// <param name="residual">Added first, same length; empty for none.</param>
    /// <param name="gamma">The scale per column, <c>[width]</c>.</param>
    /// <param name="output">The normalised rows, in double.</param>
    /// <param name="epsilon">Added to the mean square.</param>
    /// <exception cref="ArgumentException">As <see cref="Norms.RmsNorm"/>.</exception>
    public static void RmsNorm(ReadOnlySpan<float> input, ReadOnlySpan<float> residual, ReadOnlySpan<float> gamma, Span<double> output, float epsilon = 1e-6f)
    {
        Norms.Validate(input, residual, gamma, output, epsilon);
        int width = gamma.Length;
        var s = new double[width];
        for (int row = 0; row < input.Length / width; row++)
        {
            double meanSquare = 0;
            for (int c = 0; c < width; c++)
            {
                s[c] = (double)input[row * width + c] + (residual.IsEmpty ? 0 : residual[row * width + c]);
                meanSquare += s[c] * s[c];
            }

            double rms = Math.Sqrt(meanSquare / width + epsilon);
            for (int c = 0; c < width; c++)
            {
                output[row * width + c] = s[c] / rms * gamma[c];
            }
        }
    }
}
