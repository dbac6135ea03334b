namespace SelfAttention.Transformers.Reference;

/// <summary>
/// The oracle for <see cref="EncoderLayer"/>: the layer's textbook steps in double precision with plain loops
/// (projections, scores, max-subtracted softmax, weighted sums, LayerNorm, the activation of
/// <see cref="NaiveActivations"/>), sharing none of the fast path's kernels.
/// </summary>
public static class NaiveEncoderLayer
{
    /// <summary>The layer's output in double; the arguments as for <see cref="EncoderLayer.Forward(ReadOnlySpan{float}, Span{float}, int, int, int)"/>.</summary>
    /// <param name="weights">The layer's weights.</param>
    /// <param name="options">The layer's options.</param>
    /// <param name="input">The hidden states, <c>[batch·sequenceLength, d]</c>.</param>
    /// <param name="output">The output, same shape, in double.</param>
    /// <param name="batch">Sequences.</param>
    /// <param name="sequenceLength">Tokens per sequence.</param>
    /// <exception cref="ArgumentException">As <see cref="EncoderLayer"/> and its <c>Forward</c>.</exception>
    public static void Forward(EncoderLayerWeights weights, EncoderLayerOptions options, ReadOnlySpan<float> input, Span<double> output, int batch, int sequenceLength)
    {
        // The fast layer's constructor checks the weights and options; the sizes are checked here the same way.
        var layer = new EncoderLayer(weights, options);
        int d = layer.ModelDim, f = layer.FeedForwardDim, heads = options.Heads;
        if (batch < 0) SelfAttention.Internal.ThrowHelper.ThrowNegative(nameof(batch), nameof(batch), batch);
        if (sequenceLength < 0) SelfAttention.Internal.ThrowHelper.ThrowNegative(nameof(sequenceLength), nameof(sequenceLength), sequenceLength);
        long elements = (long)batch * sequenceLength * d;
        if (input.Length != elements) throw new ArgumentException($"input.Length (batch · sequenceLength · d): expected {elements}, actual {input.Length}.", nameof(input));
        if (output.Length != elements) throw new ArgumentException($"output.Length (batch · sequenceLength · d): expected {elements}, actual {output.Length}.", nameof(output));

        var offsets = new int[batch + 1];
        for (int b = 1; b <= batch; b++)
        {
            offsets[b] = offsets[b - 1] + sequenceLength;
        }

        Run(weights, options, input, output, offsets, d, f);
    }

    /// <summary>
    /// The layer's output in double for packed sequences; the arguments as for
    /// <see cref="EncoderLayer.Forward(ReadOnlySpan{float}, Span{float}, ReadOnlySpan{int}, int)"/>.
    /// </summary>
    /// <param name="weights">The layer's weights.</param>
    /// <param name="options">The layer's options.</param>
    /// <param name="input">The hidden states, <c>[totalTokens, d]</c>.</param>
    /// <param name="output">The output, same shape, in double.</param>
    /// <param name="sequenceOffsets"><c>[batch + 1]</c> cumulative token counts, from 0 to totalTokens.</param>
    /// <exception cref="ArgumentException">As <see cref="EncoderLayer"/> and its <c>Forward</c>.</exception>
    public static void Forward(EncoderLayerWeights weights, EncoderLayerOptions options, ReadOnlySpan<float> input, Span<double> output, ReadOnlySpan<int> sequenceOffsets)
    {
        var layer = new EncoderLayer(weights, options);
        int d = layer.ModelDim;
        if (input.Length % d != 0) throw new ArgumentException($"input.Length: expected a multiple of the model width {d} (totalTokens · d), actual {input.Length}.", nameof(input));
        TransformerValidation.CheckSequenceOffsets(sequenceOffsets, input.Length / d, nameof(sequenceOffsets));
        if (output.Length != input.Length) throw new ArgumentException($"output.Length (batch · sequenceLength · d): expected {input.Length}, actual {output.Length}.", nameof(output));
        Run(weights, options, input, output, sequenceOffsets.ToArray(), d, layer.FeedForwardDim);
    }

    private static void Run(EncoderLayerWeights weights, EncoderLayerOptions options, ReadOnlySpan<float> input, Span<double> output, int[] offsets, int d, int f)
    {
        double[] x = new double[offsets[^1] * d];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = input[i];
        }

        Run(weights, options, x, offsets, d, f).CopyTo(output);
    }

    // The layer on double input (so that a stack of layers stays in double: NaiveTransformerEncoder); returns the output.
    internal static double[] Run(EncoderLayerWeights weights, EncoderLayerOptions options, double[] x, int[] offsets, int d, int f)
    {
        int heads = options.Heads, rows = offsets[^1];
        double[] y;
        if (options.Placement == NormPlacement.PostLayerNorm)
        {
            double[] attended = Affine(Attend(x, weights, offsets, d, heads, options.IsCausal), weights.OutputWeights, weights.OutputBias, rows, d, d);
            double[] h = LayerNorm(Add(attended, x), weights.AttentionNormGamma, weights.AttentionNormBeta, rows, d, options.LayerNormEpsilon);
            double[] o = FeedForward(h, weights, options.FeedForwardActivation, rows, d, f);
            y = LayerNorm(Add(o, h), weights.FeedForwardNormGamma, weights.FeedForwardNormBeta, rows, d, options.LayerNormEpsilon);
        }
        else
        {
            double[] normed = LayerNorm(x, weights.AttentionNormGamma, weights.AttentionNormBeta, rows, d, options.LayerNormEpsilon);
            double[] h = Add(x, Affine(Attend(normed, weights, offsets, d, heads, options.IsCausal), weights.OutputWeights, weights.OutputBias, rows, d, d));
            double[] normed2 = LayerNorm(h, weights.FeedForwardNormGamma, weights.FeedForwardNormBeta, rows, d, options.LayerNormEpsilon);
            y = Add(h, FeedForward(normed2, weights, options.FeedForwardActivation, rows, d, f));
        }

        return y;
    }

    // Pass 1: Q, K, V. Pass 2, per sequence (rows offsets[b] … offsets[b + 1] − 1) and head: scores q·k/√d_h
    // (causal: keys up to the row), the max-subtracted softmax, the weighted sum of the values.
    private static double[] Attend(double[] x, EncoderLayerWeights w, int[] offsets, int d, int heads, bool causal)
    {
        int rows = offsets[^1], dh = d / heads;
        double[] q = Affine(x, w.QueryWeights, w.QueryBias, rows, d, d), k = Affine(x, w.KeyWeights, w.KeyBias, rows, d, d), v = Affine(x, w.ValueWeights, w.ValueBias, rows, d, d);
        var context = new double[rows * d];
        var scores = new double[rows];
        double scale = 1 / Math.Sqrt(dh);
        for (int b = 0; b + 1 < offsets.Length; b++)
        {
            int first = offsets[b], n = offsets[b + 1] - first;
            for (int h = 0; h < heads; h++)
            {
                for (int i = 0; i < n; i++)
                {
                    int visible = causal ? i + 1 : n;
                    double max = double.NegativeInfinity;
                    for (int j = 0; j < visible; j++)
                    {
                        double dot = 0;
                        for (int c = 0; c < dh; c++)
                        {
                            dot += q[(first + i) * d + h * dh + c] * k[(first + j) * d + h * dh + c];
                        }

                        scores[j] = dot * scale;
                        max = Math.Max(max, scores[j]);
                    }

                    double sum = 0;
                    for (int j = 0; j < visible; j++)
                    {
                        scores[j] = Math.Exp(scores[j] - max);
                        sum += scores[j];
                    }

                    for (int c = 0; c < dh; c++)
                    {
                        double acc = 0;
                        for (int j = 0; j < visible; j++)
                        {
                            acc += scores[j] / sum * v[(first + j) * d + h * dh + c];
                        }

                        context[(first + i) * d + h * dh + c] = acc;
                    }
                }
            }
        }

        return context;
    }

    private static double[] FeedForward(double[] h, EncoderLayerWeights w, LinearActivation activation, int rows, int d, int f)
    {
        double[] up = Affine(h, w.FeedForwardUpWeights, w.FeedForwardUpBias, rows, d, f);
        for (int i = 0; i < up.Length; i++)
        {
            up[i] = NaiveActivations.Apply(activation, up[i]);
        }

        return Affine(up, w.FeedForwardDownWeights, w.FeedForwardDownBias, rows, f, d);
    }

    // x[rows × in]·W[in × out] + b.
    private static double[] Affine(double[] x, float[] w, float[] bias, int rows, int inFeatures, int outFeatures)
    {
        var y = new double[rows * outFeatures];
        for (int r = 0; r < rows; r++)
        {
            for (int o = 0; o < outFeatures; o++)
            {
                double sum = bias[o];
                for (int i = 0; i < inFeatures; i++)
                {
                    sum += x[r * inFeatures + i] * w[i * outFeatures + o];
                }

                y[r * outFeatures + o] = sum;
            }
        }

        return y;
    }

    private static double[] Add(double[] a, double[] b)
    {
        var sum = new double[a.Length];
        for (int i = 0; i < a.Length; i++)
        {
            sum[i] = a[i] + b[i];
        }

        return sum;
    }

    internal static double[] LayerNorm(double[] x, float[] gamma, float[] beta, int rows, int d, double epsilon)
    {
        var y = new double[x.Length];
        for (int r = 0; r < rows; r++)
        {
            double mean = 0, variance = 0;
            for (int c = 0; c < d; c++)
            {
                mean += x[r * d + c] / d;
            }

            for (int c = 0; c < d; c++)
            {
                variance += (x[r * d + c] - mean) * (x[r * d + c] - mean) / d;
            }

            double std = Math.Sqrt(variance + epsilon);
            for (int c = 0; c < d; c++)
            {
                y[r * d + c] = (x[r * d + c] - mean) / std * gamma[c] + beta[c];
            }
        }

        return y;
    }
}
