namespace SelfAttention.Tests.Masks;

/// <summary>
/// The oracle for masked attention: one head, plain loops in double, the visibility given as a rule written apart from
/// the mask structs. Scores <c>(q·k)·scale</c>, hidden keys dropped, then softmax (max-subtracted) or the plain sum,
/// then the weighted sum of the visible value rows; a row that sees nothing gives zeros.
/// </summary>
internal static class MaskReference
{
    /// <summary>q: [nq, d], k: [nk, d], v: [nk, dv] contiguous; returns output [nq, dv] and weights [nq, nk].</summary>
    public static (double[] Output, double[] Weights) Compute(float[] q, float[] k, float[] v, int nq, int nk, int d, int dv, double scale,
                                                              Func<int, int, bool> visible, bool sum = false)
    {
        var output = new double[nq * dv];
        var weights = new double[nq * nk];
        var s = new double[nk];
        for (int i = 0; i < nq; i++)
        {
            double max = double.NegativeInfinity, total = 0;
            bool any = false;
            for (int j = 0; j < nk; j++)
            {
                if (!visible(i, j))
                {
                    continue;
                }

                double dot = 0;
                for (int c = 0; c < d; c++)
                {
                    dot += (double)q[i * d + c] * k[j * d + c];
                }

                s[j] = dot * scale;
                max = Math.Max(max, s[j]);
                any = true;
            }

            if (!any)
            {
                continue;
            }

            for (int j = 0; j < nk; j++)
            {
                if (visible(i, j))
                {
                    double w = sum ? s[j] : Math.Exp(s[j] - max);
                    weights[i * nk + j] = w;
                    total += w;
                }
            }

            for (int j = 0; j < nk; j++)
            {
                if (visible(i, j))
                {
                    double w = total == 0 ? 0 : weights[i * nk + j] / total;
                    weights[i * nk + j] = w;
                    for (int c = 0; c < dv; c++)
                    {
                        output[i * dv + c] += w * v[j * dv + c];
                    }
                }
            }
        }

        return (output, weights);
    }
}
