using Xunit;

namespace SelfAttention.Tests.RedTeam;

/// <summary>
/// KvCache with extreme inputs, float and Half storage, decode (≤ 4 rows: the Half cache is read in place) and prefill
/// (widened): the answer must be the reference's over the keys and values as stored (Half: each rounded to half, as
/// documented), within the rigorous tolerance of <see cref="RedOracle"/>.
/// </summary>
public class RedKvCacheTests
{
    [Theory]
    [InlineData(KvCacheStorage.Single, 1, 1e20f, 1e20f, 1f)]
    [InlineData(KvCacheStorage.Half, 1, 1e30f, 60000f, 1f)]
    [InlineData(KvCacheStorage.Half, 4, 1e35f, 60000f, 1e-35f)]
    [InlineData(KvCacheStorage.Half, 33, 1e35f, 60000f, 1e-35f)]
    [InlineData(KvCacheStorage.Single, 33, 3e38f, 1f, 10f)]
    [InlineData(KvCacheStorage.Half, 2, 1f, 1f, 3.4e38f)]
    public void ExtremeInputs_MatchTheReferenceOnTheStoredValues(KvCacheStorage storage, int queryLength, float qMagnitude, float kMagnitude, float scale)
    {
        const int d = 12, dv = 10, tokens = 150;
        var rng = new Random(queryLength + (int)storage);
        float[] R(int n, float m) => [.. Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() * 2 - 1) * m))];
        var keys = R(tokens * d, kMagnitude);
        var values = R(tokens * dv, storage == KvCacheStorage.Half ? 60000f : 3e38f);
        var q = R(queryLength * d, qMagnitude);
        var cache = new KvCache(tokens, 1, d, dv, storage: storage);
        cache.Append(keys, values, tokens);
        float[] Stored(float[] x) => storage == KvCacheStorage.Half ? [.. x.Select(f => (float)(Half)f)] : x;
        foreach (bool causal in new[] { false, true })
        {
            var options = new AttentionOptions { Scale = scale, IsCausal = causal, MaxDegreeOfParallelism = 2 };
            var expected = RedOracle.For(q, Stored(keys), Stored(values), queryLength, tokens, d, dv, options);
            var output = new float[queryLength * dv];
            cache.Attend(q, output, 1, queryLength, options);
            RedOracle.AssertClose(expected, output, dv, $"{storage} cache, {queryLength} rows, |q| {qMagnitude:G2}, |k| {kMagnitude:G2}, scale {scale:G2}, causal {causal}");
        }
    }
}
