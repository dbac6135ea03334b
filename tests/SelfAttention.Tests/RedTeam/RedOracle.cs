using CommunityToolkit.HighPerformance;
using SelfAttention.Reference;
using Xunit;

namespace SelfAttention.Tests.RedTeam;

/// <summary>
/// The red team's oracle: the exact answer (NaiveAttention, double) and a rigorous float-rounding tolerance per output
/// element, for one head with q [nq, d], k [nk, d], v [nk, dv].
/// <para>
/// Tolerance (softmax). Let s_j be the exact score and a_j = scale·Σ_c |q_c·k_jc|. Any float evaluation of the score in
/// any summation order (FMA dot then ×scale, or the tiled kernel's pre-scaled q·scale then dot) is off by at most
/// δ_j = (d + 8)·u·a_j with u = 2⁻²⁴, as long as no intermediate is subnormal (the classic γ_n bound); the float exp
/// (relative error ≈ 1.4u) and the online rescales (one per key block) add (n/32 + 8)·u. Score errors |ε_j| ≤ δ_j move
/// weight j at most to w_j^± = 1 / (1 + Σ_{k≠j} e^{(s_k ∓ δ_k) − (s_j ± δ_j)}) — exact, not first-order, so a key
/// that is far below the maximum stays at 0 however large its own δ. The output error of channel c is then at most
/// Σ_j Δw_j·|v_jc| plus the float weighted sum's own rounding, (n + 16)·u·M_c + 2e-6·M_c with M_c = max_j |v_jc|
/// (n visible keys). A NaN or ∞ where the exact answer is finite fails by any tolerance.
/// </para>
/// <para>
/// Tolerance (sum normalisation). w_j = s_j / S. With |ε_j| ≤ δ_j = (d + 8)·u·a_j and E = Σ δ_j:
/// |Δw_j| ≤ (δ_j + |w_j|·E) / (|S| − E) when |S| &gt; E, else the problem is ill-conditioned and only finiteness is
/// checked; the weighted sum adds (n + 16)·u·Σ_j |w_j|·|v_jc| + 2e-6·M_c.
/// </para>
/// Subnormal intermediates are deliberately not in the tolerance: the README promises float rounding for every finite
/// input and names only subnormal <em>inputs</em> as carrying fewer bits.
/// </summary>
internal static class RedOracle
{
    public const double U = 1.0 / (1 << 24);

    public readonly record struct Expected(float[] Output, double[] Tolerance, float[]? Weights);

    public static float EffectiveScale(AttentionOptions o, int d) => o.Scale ?? 1f / MathF.Sqrt(d);

    /// <summary>The exact output (and weights) from NaiveAttention and the tolerance described in the class remarks.</summary>
    public static Expected For(float[] q, float[] k, float[] v, int nq, int nk, int d, int dv, AttentionOptions options, bool weights = false)
    {
        var output = new float[nq * dv];
        float[]? w = weights ? new float[nq * nk] : null;
        var opts = options with { Kernel = AttentionKernel.Auto, MaxDegreeOfParallelism = 0 };
        if (weights)
        {
            NaiveAttention.Compute(View(q, nq, d), View(k, nk, d), View(v, nk, dv), Span(output, nq, dv), Span(w!, nq, nk), opts);
        }
        else
        {
            NaiveAttention.Compute(View(q, nq, d), View(k, nk, d), View(v, nk, dv), Span(output, nq, dv), opts);
        }

        double scale = EffectiveScale(options, d);
        var tol = new double[nq * dv];
        var s = new double[nk];
        var a = new double[nk];
        var delta = new double[nk];
        var dw = new double[nk];
        var exactW = new double[nk];
        for (int i = 0; i < nq; i++)
        {
            int n = options.IsCausal ? (int)Math.Clamp((long)i + nk - nq + 1, 0, nk) : nk;
            for (int j = 0; j < n; j++)
            {
                double dot = 0, abs = 0;
                for (int c = 0; c < d; c++)
                {
                    double p = (double)q[i * d + c] * k[j * d + c];
                    dot += p;
                    abs += Math.Abs(p);
                }

                s[j] = dot * scale;
                a[j] = abs * scale;
            }

            bool conditioned = true;
            if (options.Normalization == AttentionNormalization.Softmax)
            {
                for (int j = 0; j < n; j++)
                {
                    // ±∞ scores (from ±∞ inputs) are exact in float too: no rounding to bound.
                    delta[j] = double.IsFinite(a[j]) ? (d + 8) * U * a[j] + (n / 32.0 + 8) * U : 0;
                }

                SoftmaxWeightBounds(s, delta, n, exactW, dw);
            }
            else
            {
                double sum = 0, e = 0;
                for (int j = 0; j < n; j++)
                {
                    delta[j] = (d + 8) * U * a[j];
                    sum += s[j];
                    e += delta[j];
                }

                conditioned = Math.Abs(sum) > 2 * e && sum != 0;
                for (int j = 0; j < n; j++)
                {
                    exactW[j] = sum == 0 ? 0 : s[j] / sum;
                    dw[j] = conditioned ? (delta[j] + Math.Abs(exactW[j]) * e) / (Math.Abs(sum) - e) : double.PositiveInfinity;
                }
            }

            for (int c = 0; c < dv; c++)
            {
                double m = 0, spread = 0, weighted = 0;
                for (int j = 0; j < n; j++)
                {
                    double vv = Math.Abs((double)v[j * dv + c]);
                    m = Math.Max(m, vv);
                    spread += dw[j] * vv;
                    weighted += Math.Abs(exactW[j]) * vv;
                }

                tol[i * dv + c] = conditioned ? spread + (n + 16) * U * weighted + 2e-6 * m : double.PositiveInfinity;
            }
        }

        return new Expected(output, tol, w);
    }

    /// <summary>Exact softmax weights and the largest weight moves for score errors |ε_j| ≤ δ_j (see the class remarks).</summary>
    private static void SoftmaxWeightBounds(double[] s, double[] delta, int n, double[] w, double[] dw)
    {
        double max = double.NegativeInfinity, maxHi = double.NegativeInfinity, maxLo = double.NegativeInfinity;
        for (int j = 0; j < n; j++)
        {
            max = Math.Max(max, s[j]);
            maxHi = Math.Max(maxHi, s[j] + delta[j]);
            maxLo = Math.Max(maxLo, s[j] - delta[j]);
        }

        double z = 0, zHi = 0, zLo = 0;
        for (int j = 0; j < n; j++)
        {
            z += Math.Exp(s[j] - max);
            zHi += Math.Exp(s[j] + delta[j] - maxHi);
            zLo += Math.Exp(s[j] - delta[j] - maxLo);
        }

        for (int j = 0; j < n; j++)
        {
            w[j] = Math.Exp(s[j] - max) / z;
            // Σ_{k≠j} e^{lo_k} and Σ_{k≠j} e^{hi_k}, shifted; clamped at 0 against cancellation.
            double othersLo = Math.Max(0, zLo - Math.Exp(s[j] - delta[j] - maxLo));
            double othersHi = Math.Max(0, zHi - Math.Exp(s[j] + delta[j] - maxHi));
            double up = 1 / (1 + othersLo * Math.Exp(maxLo - (s[j] + delta[j])));
            double down = 1 / (1 + othersHi * Math.Exp(maxHi - (s[j] - delta[j])));
            dw[j] = Math.Max(up - w[j], w[j] - down) + 1e-15;
        }
    }

    public static ReadOnlySpan2D<float> View(float[] x, int rows, int cols) =>
        rows * cols == 0 ? new ReadOnlySpan2D<float>(x, 0, rows, cols, 0) : new ReadOnlySpan2D<float>(x, rows, cols);

    public static Span2D<float> Span(float[] x, int rows, int cols) =>
        rows * cols == 0 ? new Span2D<float>(x, 0, rows, cols, 0) : new Span2D<float>(x, rows, cols);

    /// <summary>Asserts every element is within tolerance; reports the worst element.</summary>
    public static void AssertClose(in Expected expected, float[] actual, int dv, string label)
    {
        double worstRatio = 0;
        int worst = -1;
        for (int index = 0; index < actual.Length; index++)
        {
            float e = expected.Output[index], x = actual[index];
            if (!float.IsFinite(e))
            {
                // The exact answer is beyond float (or NaN from the inputs): the kernel must agree on NaN-ness.
                Assert.True(float.IsNaN(e) == float.IsNaN(x), $"{label}: element [{index / dv}, {index % dv}] expected {e}, actual {x}");
                continue;
            }

            double error = Math.Abs((double)x - e);
            double ratio = double.IsNaN(error) ? double.PositiveInfinity : error / Math.Max(expected.Tolerance[index], 1e-300);
            if (!(error <= expected.Tolerance[index]) && ratio > worstRatio)
            {
                worstRatio = ratio;
                worst = index;
            }
        }

        if (worst >= 0)
        {
            Assert.Fail($"{label}: element [{worst / dv}, {worst % dv}] expected {expected.Output[worst]:R}, actual {actual[worst]:R}, " +
                        $"error {Math.Abs((double)actual[worst] - expected.Output[worst]):G3} > tolerance {expected.Tolerance[worst]:G3} ({worstRatio:G3}×)");
        }
    }

    public static readonly AttentionKernel[] Kernels = [AttentionKernel.Auto, AttentionKernel.RowByRow, AttentionKernel.Tiled, AttentionKernel.Decode];
}
