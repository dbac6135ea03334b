using CommunityToolkit.HighPerformance;
using Xunit;

namespace SelfAttention.Tests.RedTeam;

/// <summary>
/// Runs one head through every public way of computing it: <see cref="Attention.Compute(ReadOnlySpan2D{float}, ReadOnlySpan2D{float}, ReadOnlySpan2D{float}, Span2D{float}, AttentionOptions)"/>
/// (dense and with pitched views whose gaps hold a sentinel), its weights overload, and
/// <see cref="Attention.ComputeMultiHead"/> with grouped-query heads (4 query heads over 2 kv heads, every head a copy
/// of the one head, so every head must give the one-head answer); each with every kernel and the given degrees.
/// </summary>
internal static class RedRunner
{
    private const float Sentinel = -7.77e7f;

    public static void CheckAll(float[] q, float[] k, float[] v, int nq, int nk, int d, int dv, AttentionOptions options, string label,
                                int[]? degrees = null, bool weights = true, bool multiHead = true, bool pitched = true)
    {
        degrees ??= [0, 2, -1];
        var expected = RedOracle.For(q, k, v, nq, nk, d, dv, options);
        var expectedW = weights ? RedOracle.For(q, k, v, nq, nk, d, dv, options, weights: true) : default;
        foreach (var kernel in RedOracle.Kernels)
        {
            foreach (int degree in degrees)
            {
                var o = options with { Kernel = kernel, MaxDegreeOfParallelism = degree };
                string at = $"{label} [{kernel}, degree {degree}, causal {options.IsCausal}, {options.Normalization}, nq {nq}, nk {nk}, d {d}, dv {dv}]";

                var output = new float[nq * dv];
                Attention.Compute(RedOracle.View(q, nq, d), RedOracle.View(k, nk, d), RedOracle.View(v, nk, dv), RedOracle.Span(output, nq, dv), o);
                RedOracle.AssertClose(expected, output, dv, at + " Compute");

                if (weights)
                {
                    var output2 = new float[nq * dv];
                    var w = new float[nq * nk];
                    Attention.Compute(RedOracle.View(q, nq, d), RedOracle.View(k, nk, d), RedOracle.View(v, nk, dv), RedOracle.Span(output2, nq, dv), RedOracle.Span(w, nq, nk), o);
                    RedOracle.AssertClose(expectedW, output2, dv, at + " Compute+weights");
                    AssertWeights(expectedW.Weights!, w, nk, at);
                }

                if (pitched)
                {
                    CheckPitched(q, k, v, nq, nk, d, dv, o, expected, at);
                }

                if (multiHead)
                {
                    CheckMultiHead(q, k, v, nq, nk, d, dv, o, expected, at);
                }
            }
        }
    }

    private static void AssertWeights(float[] expected, float[] actual, int nk, string at)
    {
        for (int index = 0; index < actual.Length; index++)
        {
            float e = expected[index], x = actual[index];
            if (!float.IsFinite(e))
            {
                Assert.True(float.IsNaN(e) == float.IsNaN(x), $"{at}: weight [{index / nk}, {index % nk}] expected {e}, actual {x}");
                continue;
            }

            // The weights row is a softmax/sum of the same scores: its error is bounded like the output's with v = e_j,
            // which the output check already covers; here only gross failures (NaN, ∞, a wrong one-hot) are caught.
            Assert.True(Math.Abs((double)x - e) <= 1e-3 * Math.Max(1, Math.Abs(e)), $"{at}: weight [{index / nk}, {index % nk}] expected {e:R}, actual {x:R}");
        }
    }

    private static void CheckPitched(float[] q, float[] k, float[] v, int nq, int nk, int d, int dv, AttentionOptions o, in RedOracle.Expected expected, string at)
    {
        const int pitch = 3;
        float[] Pitch(float[] x, int rows, int cols)
        {
            var buffer = new float[Math.Max(1, rows * (cols + pitch))];
            Array.Fill(buffer, Sentinel);
            for (int r = 0; r < rows; r++)
            {
                Array.Copy(x, r * cols, buffer, r * (cols + pitch), cols);
            }

            return buffer;
        }

        var pq = Pitch(q, nq, d);
        var pk = Pitch(k, nk, d);
        var pv = Pitch(v, nk, dv);
        var po = new float[Math.Max(1, nq * (dv + pitch))];
        Array.Fill(po, Sentinel);
        Attention.Compute(new ReadOnlySpan2D<float>(pq, 0, nq, d, pitch), new ReadOnlySpan2D<float>(pk, 0, nk, d, pitch),
                          new ReadOnlySpan2D<float>(pv, 0, nk, dv, pitch), new Span2D<float>(po, 0, nq, dv, pitch), o);
        var dense = new float[nq * dv];
        for (int r = 0; r < nq; r++)
        {
            Array.Copy(po, r * (dv + pitch), dense, r * dv, dv);
            for (int g = 0; g < pitch && r * (dv + pitch) + dv + g < po.Length; g++)
            {
                Assert.True(po[r * (dv + pitch) + dv + g] == Sentinel, $"{at} pitched: a pitch gap of output row {r} was written");
            }
        }

        RedOracle.AssertClose(expected, dense, dv, at + " Compute (pitched views)");
    }

    private static void CheckMultiHead(float[] q, float[] k, float[] v, int nq, int nk, int d, int dv, AttentionOptions o, in RedOracle.Expected expected, string at)
    {
        const int heads = 4, kvHeads = 2;
        var mq = new float[nq * heads * d];
        var mk = new float[nk * kvHeads * d];
        var mv = new float[nk * kvHeads * dv];
        for (int r = 0; r < nq; r++)
        {
            for (int h = 0; h < heads; h++)
            {
                Array.Copy(q, r * d, mq, (r * heads + h) * d, d);
            }
        }

        for (int r = 0; r < nk; r++)
        {
            for (int g = 0; g < kvHeads; g++)
            {
                Array.Copy(k, r * d, mk, (r * kvHeads + g) * d, d);
                Array.Copy(v, r * dv, mv, (r * kvHeads + g) * dv, dv);
            }
        }

        var mo = new float[nq * heads * dv];
        var shape = new AttentionShape(1, nq, nk, heads, d) { KvHeads = kvHeads, ValueDim = dv };
        Attention.ComputeMultiHead(mq, mk, mv, mo, shape, o);
        for (int h = 0; h < heads; h++)
        {
            var head = new float[nq * dv];
            for (int r = 0; r < nq; r++)
            {
                Array.Copy(mo, (r * heads + h) * dv, head, r * dv, dv);
            }

            RedOracle.AssertClose(expected, head, dv, $"{at} ComputeMultiHead head {h} (GQA 4/2)");
        }
    }
}
