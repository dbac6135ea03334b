using Xunit;

namespace SelfAttention.Tests.RedTeam;

/// <summary>
/// README: "NaN in the inputs gives NaN in the affected output rows, never an exception or a hang"; ±∞ inputs behave
/// like the reference. Every element's NaN-ness must equal NaiveAttention's (so NaN reaches exactly the affected
/// rows and columns, no others), and the finite elements must agree within the rigorous tolerance. Every kernel,
/// every entry point, degrees 0 and 2, under a 60 s timeout against hangs.
/// </summary>
public class RedNaNTests
{
    public static TheoryData<string, int, int, bool> Cases()
    {
        var data = new TheoryData<string, int, int, bool>();
        foreach (string what in new[] { "q NaN", "k NaN", "v NaN", "q +inf", "k -inf", "v +inf", "v -inf hidden", "k NaN hidden" })
        {
            foreach (var (nq, nk) in new[] { (1, 70), (4, 130), (70, 70) })
            {
                data.Add(what, nq, nk, true);
            }

            data.Add(what, 3, 3, false);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task NonFiniteInput_ReachesExactlyTheReferencesElements(string what, int nq, int nk, bool causal)
    {
        const int d = 11, dv = 5;
        var rng = new Random(what.Length * 31 + nq * 7 + nk);
        float[] R(int n) => [.. Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1))];
        var q = R(nq * d);
        var k = R(nk * d);
        var v = R(nk * dv);
        int row = nq / 2, key = nk / 3, last = nk - 1;
        switch (what)
        {
            case "q NaN": q[row * d + 3] = float.NaN; break;
            case "k NaN": k[key * d + 2] = float.NaN; break;
            case "v NaN": v[key * dv + 1] = float.NaN; break;
            case "q +inf": q[row * d + 4] = float.PositiveInfinity; break;
            case "k -inf": k[key * d] = float.NegativeInfinity; break;
            case "v +inf": v[key * dv + 4] = float.PositiveInfinity; break;
            case "v -inf hidden": v[last * dv + 2] = float.NegativeInfinity; break;   // behind the mask for every row but the last
            case "k NaN hidden": k[last * d + 1] = float.NaN; break;
        }

        var options = new AttentionOptions { IsCausal = causal };
        var run = Task.Run(() => RedRunner.CheckAll(q, k, v, nq, nk, d, dv, options, what, degrees: [2], pitched: false));
        await run.WaitAsync(TimeSpan.FromSeconds(60)); // TimeoutException on a hang
    }
}
