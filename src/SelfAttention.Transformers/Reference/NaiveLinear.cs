namespace SelfAttention.Transformers.Reference;

/// <summary>The oracle for <see cref="Linear"/>: the triple loop in double, then the activation of <see cref="NaiveActivations"/>.</summary>
public static class NaiveLinear
{
    /// <summary><c>output = activation(input·W + b)</c> in double.</summary>
    /// <param name="input">The rows, <c>[rows × inFeatures]</c>.</param>
    /// <param name="weights">The weights in <paramref name="layout"/>.</param>
    /// <param name="bias">The bias, <c>[outFeatures]</c>, or empty.</param>
    /// <param name="inFeatures">Input columns.</param>
    /// <param name="outFeatures">Output columns.</param>
    /// <param name="layout">The weights' layout.</param>
    /// <param name="activation">The activation.</param>
    /// <param name="output">The result, <c>[rows × outFeatures]</c>, in double.</param>
    /// <exception cref="ArgumentException">The lengths do not match (the checks of <see cref="Linear"/>).</exception>
    public static void Forward(ReadOnlySpan<float> input, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias, int inFeatures, int outFeatures,
                               LinearWeightLayout layout, LinearActivation activation, Span<double> output)
    {
        // The same argument checks as the fast layer (its constructor's, then Forward's lengths).
        Linear.Validate(weights, bias, inFeatures, outFeatures, layout, activation);
        if (input.Length % inFeatures != 0)
        {
            throw new ArgumentException($"input.Length: expected a multiple of InFeatures = {inFeatures}, actual {input.Length}.", nameof(input));
        }

        int rows = input.Length / inFeatures;
        if (output.Length != (long)rows * outFeatures)
        {
            throw new ArgumentException($"output.Length: expected {(long)rows * outFeatures}, actual {output.Length}.", nameof(output));
        }

        for (int r = 0; r < rows; r++)
        {
            for (int o = 0; o < outFeatures; o++)
            {
                double sum = bias.IsEmpty ? 0 : bias[o];
                for (int i = 0; i < inFeatures; i++)
                {
                    float w = layout == LinearWeightLayout.InputMajor ? weights[i * outFeatures + o] : weights[o * inFeatures + i];
                    sum += (double)input[r * inFeatures + i] * w;
                }

                output[r * outFeatures + o] = NaiveActivations.Apply(activation, sum);
            }
        }
    }
}
