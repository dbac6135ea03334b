namespace SelfAttention.Tests.Kernels;

/// <summary>Double-precision references for the row primitives, written the textbook way.</summary>
internal static class PrimitiveReferences
{
    /// <summary>Stable softmax in double; −∞ entries get 0, a row of only −∞ gives zeros.</summary>
    public static double[] Softmax(ReadOnlySpan<float> x)
    {
        double max = double.NegativeInfinity;
        foreach (float value in x)
        {
            max = Math.Max(max, value);
        }

        var result = new double[x.Length];
        double sum = 0;
        for (int j = 0; j < x.Length; j++)
        {
            result[j] = float.IsNegativeInfinity(x[j]) ? 0 : Math.Exp(x[j] - max);
            sum += result[j];
        }

        for (int j = 0; j < x.Length; j++)
        {
            result[j] = sum == 0 ? 0 : result[j] / sum;
        }

        return result;
    }

    public static double[] SumNormalize(ReadOnlySpan<float> x)
    {
        double sum = 0;
        foreach (float value in x)
        {
            sum += value;
        }

        var result = new double[x.Length];
        for (int j = 0; j < x.Length; j++)
        {
            result[j] = sum == 0 ? 0 : x[j] / sum;
        }

        return result;
    }

    /// <summary>The dot product and Σ|x·y|, the quantity its float rounding error is proportional to.</summary>
    public static (double Value, double AbsoluteSum) Dot(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        double value = 0, absoluteSum = 0;
        for (int c = 0; c < x.Length; c++)
        {
            value += (double)x[c] * y[c];
            absoluteSum += Math.Abs((double)x[c] * y[c]);
        }

        return (value, absoluteSum);
    }

    /// <summary><c>Σ_j w_j·v[j, c]</c> and <c>Σ_j |w_j·v[j, c]|</c> per column c.</summary>
    public static (double[] Value, double[] AbsoluteSum) WeightedSum(ReadOnlySpan<float> weights, ReadOnlySpan<float> values, int valueDim)
    {
        var value = new double[valueDim];
        var absoluteSum = new double[valueDim];
        for (int j = 0; j < weights.Length; j++)
        {
            for (int c = 0; c < valueDim; c++)
            {
                double term = (double)weights[j] * values[j * valueDim + c];
                value[c] += term;
                absoluteSum[c] += Math.Abs(term);
            }
        }

        return (value, absoluteSum);
    }
}
