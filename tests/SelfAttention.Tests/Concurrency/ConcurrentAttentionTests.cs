using SelfAttention.Tests.Helpers;
using Xunit;

namespace SelfAttention.Tests.Concurrency;

/// <summary>
/// Many threads call <see cref="Attention.ComputeMultiHead"/> with <c>MaxDegreeOfParallelism = 2</c> at once: one
/// call owns the worker pool at a time and the others run inline, and every result is bit-identical to the
/// single-thread result, for every kernel path (tiled, decode, row by row, causal, Sum normalisation).
/// </summary>
[Collection(ConcurrencyCollection.Name)]
public class ConcurrentAttentionTests
{
    private sealed record Case(string Name, AttentionShape Shape, AttentionOptions Options, float[] Query, float[] Key, float[] Value, float[] Expected);

    [Fact]
    public void ManyThreads_ComputeMultiHead_MatchSingleThreadBitForBit()
    {
        Case[] cases =
        [
            Build("tiled", new AttentionShape(1, 96, 80, 4, 32), new AttentionOptions { Kernel = AttentionKernel.Tiled }),
            Build("tiled causal", new AttentionShape(2, 64, 64, 2, 64), new AttentionOptions { IsCausal = true }),
            Build("decode gqa", new AttentionShape(2, 1, 600, 8, 64) { KvHeads = 2 }, new AttentionOptions { Kernel = AttentionKernel.Decode }),
            Build("row by row", new AttentionShape(1, 20, 33, 3, 24), new AttentionOptions { Kernel = AttentionKernel.RowByRow }),
            Build("sum", new AttentionShape(1, 40, 40, 2, 16), new AttentionOptions { Normalization = AttentionNormalization.Sum }),
        ];

        const int threads = 8, rounds = 12;
        var failures = new string?[threads];
        var workers = new Thread[threads];
        using var start = new ManualResetEventSlim();
        for (int t = 0; t < threads; t++)
        {
            int index = t;
            workers[t] = new Thread(() =>
            {
                try
                {
                    start.Wait();
                    for (int round = 0; round < rounds; round++)
                    {
                        var c = cases[(index + round) % cases.Length];
                        var output = new float[c.Expected.Length];
                        Attention.ComputeMultiHead(c.Query, c.Key, c.Value, output, c.Shape, c.Options with { MaxDegreeOfParallelism = 2 });
                        int mismatch = FirstMismatch(c.Expected, output);
                        if (mismatch >= 0)
                        {
                            failures[index] = $"{c.Name}, thread {index}, round {round}: output[{mismatch}] = {output[mismatch]:R}, single thread {c.Expected[mismatch]:R}";
                            return;
                        }
                    }
                }
                catch (Exception exception)
                {
                    failures[index] = exception.ToString();
                }
            });
            workers[t].Start();
        }

        start.Set();
        foreach (var worker in workers)
        {
            Assert.True(worker.Join(TimeSpan.FromSeconds(60)), "a calling thread did not finish");
        }

        Assert.All(failures, Assert.Null);
    }

    private static Case Build(string name, AttentionShape shape, AttentionOptions options)
    {
        int kvHeads = shape.KvHeads == 0 ? shape.Heads : shape.KvHeads;
        var rng = new Random(TestInputs.DefaultSeed + name.Length);
        float[] query = TestInputs.Uniform(rng, shape.Batch * shape.QueryLength * shape.Heads * shape.HeadDim, 1f);
        float[] key = TestInputs.Uniform(rng, shape.Batch * shape.KeyLength * kvHeads * shape.HeadDim, 1f);
        float[] value = TestInputs.Uniform(rng, shape.Batch * shape.KeyLength * kvHeads * shape.HeadDim, 1f);
        float[] expected = new float[shape.Batch * shape.QueryLength * shape.Heads * shape.HeadDim];
        Attention.ComputeMultiHead(query, key, value, expected, shape, options with { MaxDegreeOfParallelism = 1 });
        return new Case(name, shape, options, query, key, value, expected);
    }

    private static int FirstMismatch(float[] expected, float[] actual)
    {
        for (int index = 0; index < expected.Length; index++)
        {
            if (BitConverter.SingleToInt32Bits(expected[index]) != BitConverter.SingleToInt32Bits(actual[index]))
            {
                return index;
            }
        }

        return -1;
    }
}
