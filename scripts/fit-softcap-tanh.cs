// Derives the softcap's rational tanh (src/SelfAttention/Kernels/Masks/SoftCapMask.cs):
//   tanh(x) ≈ x·P(x²)/Q(x²), P and Q of degree 4 in t = x², x clamped to ±ClampAt.
// Run: dotnet run scripts/fit-softcap-tanh.cs            (about a second; prints the constants the kernel holds)
//
// 1. Fit g(t) = tanh(x)/x on x ∈ [0, 8.3] for the least maximum relative error: linearised least squares
//    (P − g·Q)/(g·Q_previous) with Q(0) = 1, reweighted after each solve by the relative error (Lawson's method),
//    on Chebyshev and uniform points; the best of 400 rounds is kept.
// 2. Round to float and nudge each coefficient but P(0), Q(0) by ulps while that lowers the worst relative error of the
//    kernel's own float evaluation, fused and unfused (the scalar path without FMA), on a dense sweep to 1.3 × 8.3.
// 3. Take as the clamp the first float from 8.3 at which both evaluations give exactly 1, so ±∞ caps to ±cap exactly.
using System;
using System.Collections.Generic;
using System.Linq;

const int Degree = 4, Points = 3000, Rounds = 400;
const double End = 8.3;
double[] xs = [.. Enumerable.Range(0, Points).Select(i => End * (1 - Math.Cos(Math.PI * (i + 0.5) / Points)) / 2),
               .. Enumerable.Range(0, Points).Select(i => End * (i + 0.5) / Points)];
int n = xs.Length, unknowns = 2 * Degree + 1;              // p0..p4, q1..q4
double[] tau = [.. xs.Select(x => x * x / (End * End))];   // t scaled to [0, 1] for conditioning
double[] g = [.. xs.Select(x => Math.Tanh(x) / x)];
double[] weight = [.. Enumerable.Repeat(1.0 / n, n)];
double[] qPrevious = [.. Enumerable.Repeat(1.0, n)];
double best = double.MaxValue;
double[] bestCoefficients = [];
for (int round = 0; round < Rounds; round++)
{
    var a = new double[n, unknowns];
    var b = new double[n];
    for (int i = 0; i < n; i++)
    {
        double rowScale = Math.Sqrt(weight[i]) / (g[i] * qPrevious[i]), power = 1;
        for (int c = 0; c <= Degree; c++, power *= tau[i]) a[i, c] = rowScale * power;
        power = tau[i];
        for (int c = 0; c < Degree; c++, power *= tau[i]) a[i, Degree + 1 + c] = -rowScale * g[i] * power;
        b[i] = rowScale * g[i];
    }

    double[] coefficients = LeastSquares(a, b, n, unknowns);
    double worst = 0, total = 0;
    var error = new double[n];
    for (int i = 0; i < n; i++)
    {
        double p = 0, q = 0;
        for (int c = Degree; c >= 0; c--) p = p * tau[i] + coefficients[c];
        for (int c = Degree - 1; c >= 0; c--) q = q * tau[i] + coefficients[Degree + 1 + c];
        q = q * tau[i] + 1;
        error[i] = (p / q - g[i]) / g[i];
        worst = Math.Max(worst, Math.Abs(error[i]));
        qPrevious[i] = q;
    }

    if (worst < best) (best, bestCoefficients) = (worst, coefficients);
    for (int i = 0; i < n; i++) total += weight[i] *= Math.Abs(error[i]) + 1e-300;
    for (int i = 0; i < n; i++) weight[i] /= total;
}

// Back to powers of t itself, in float.
float[] pf = [.. Enumerable.Range(0, Degree + 1).Select(c => (float)(bestCoefficients[c] / Math.Pow(End * End, c)))];
float[] qf = [1f, .. Enumerable.Range(1, Degree).Select(c => (float)(bestCoefficients[Degree + c] / Math.Pow(End * End, c)))];
float clampAt = (float)End;

var sweep = new List<float>();
for (float x = 1e-6f; x < 1e-3f; x *= 1.01f) sweep.Add(x);
for (float x = 1e-3f; x < (float)End * 1.3f; x += 2e-5f) sweep.Add(x);
double[] exact = [.. sweep.Select(x => Math.Tanh(x))];

double current = Math.Max(Worst(true), Worst(false));
for (bool improved = true; improved;)
{
    improved = false;
    foreach (float[] poly in new[] { pf, qf })
    {
        for (int c = 1; c <= Degree; c++)
        {
            foreach (bool up in new[] { true, false })
            {
                while (true)
                {
                    float old = poly[c];
                    poly[c] = up ? MathF.BitIncrement(old) : MathF.BitDecrement(old);
                    double score = Math.Max(Worst(true), Worst(false));
                    if (score < current) (current, improved) = (score, true);
                    else { poly[c] = old; break; }
                }
            }
        }
    }
}

while (!(Evaluate(clampAt, true) == 1f && Evaluate(clampAt, false) == 1f)) clampAt = MathF.BitIncrement(clampAt);

Console.WriteLine($"fit: worst relative error {best:G3} in exact arithmetic; in float {Worst(true):G3} fused, {Worst(false):G3} unfused");
Console.WriteLine($"ClampAt = {clampAt:R}f");
Console.WriteLine("P0..P4 = " + string.Join(", ", pf.Select(v => v.ToString("R") + "f")));
Console.WriteLine("Q0..Q4 = " + string.Join(", ", qf.Select(v => v.ToString("R") + "f")));

// The kernel's evaluation order: x clamped, t = x·x, Horner, (x·P)/Q.
float Evaluate(float x, bool fused)
{
    float xc = MathF.Min(MathF.Max(x, -clampAt), clampAt), t = xc * xc, p = pf[Degree], q = qf[Degree];
    for (int c = Degree - 1; c >= 0; c--)
    {
        p = fused ? MathF.FusedMultiplyAdd(p, t, pf[c]) : p * t + pf[c];
        q = fused ? MathF.FusedMultiplyAdd(q, t, qf[c]) : q * t + qf[c];
    }

    return xc * p / q;
}

double Worst(bool fused)
{
    double worst = 0;
    for (int i = 0; i < sweep.Count; i++) worst = Math.Max(worst, Math.Abs(Evaluate(sweep[i], fused) - exact[i]) / exact[i]);
    return worst;
}

// Householder QR least squares for the small dense system a·x ≈ b (n rows, u unknowns).
static double[] LeastSquares(double[,] a, double[] b, int n, int u)
{
    for (int c = 0; c < u; c++)
    {
        double norm = 0;
        for (int r = c; r < n; r++) norm += a[r, c] * a[r, c];
        norm = Math.Sqrt(norm);
        double alpha = a[c, c] > 0 ? -norm : norm, vv = 0;
        var v = new double[n];
        for (int r = c; r < n; r++) v[r] = a[r, c];
        v[c] -= alpha;
        for (int r = c; r < n; r++) vv += v[r] * v[r];
        if (vv == 0) continue;
        for (int cc = c; cc < u; cc++)
        {
            double d = 0;
            for (int r = c; r < n; r++) d += v[r] * a[r, cc];
            for (int r = c; r < n; r++) a[r, cc] -= 2 * d / vv * v[r];
        }

        double db = 0;
        for (int r = c; r < n; r++) db += v[r] * b[r];
        for (int r = c; r < n; r++) b[r] -= 2 * db / vv * v[r];
    }

    var x = new double[u];
    for (int c = u - 1; c >= 0; c--)
    {
        double s = b[c];
        for (int cc = c + 1; cc < u; cc++) s -= a[c, cc] * x[cc];
        x[c] = s / a[c, c];
    }

    return x;
}
