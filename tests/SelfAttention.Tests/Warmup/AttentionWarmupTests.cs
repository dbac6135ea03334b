using System.Diagnostics;
using SelfAttention.Tests.Allocation;
using SelfAttention.Tests.Helpers;
using Xunit;

namespace SelfAttention.Tests.Warmup;

/// <summary>
/// <see cref="AttentionWarmup.Run"/> runs at every degree without throwing, allocates nothing once it has run, changes
/// no result of the library, can be called from several threads at once, and rejects a degree below −1 by name.
/// In the allocation collection: it measures allocation and starts the worker pool.
/// </summary>
[Collection(AllocationCollection.Name)]
public class AttentionWarmupTests
{
    [Fact]
    public void RepeatedRun_AllocatesNothing() => AllocationProcess.Run<AttentionWarmupTests>(nameof(RepeatedRun_AllocatesNothingScenario));

    private static void RepeatedRun_AllocatesNothingScenario()
    {
        AttentionWarmup.Run();
        AllocationAssert.SteadyStateAllocatesNothing(() => AttentionWarmup.Run(), "AttentionWarmup.Run()");
        AllocationAssert.SteadyStateAllocatesNothing(() => AttentionWarmup.Run(-1), "AttentionWarmup.Run(-1)");
    }

    [Fact]
    public void RepeatedRun_AllocatesNothing_ProcessWide()
    {
        AttentionWarmup.Run();
        AttentionWarmup.Run(2);

        // Process-wide (the worker threads included), over batches of 100 calls, each followed by an idle control
        // interval as long as the batch: the test host's own threads allocate at a steady rate whatever runs (seen:
        // a few hundred bytes per batch in Release, some KB in Debug) and in one-off bursts. A per-call allocation of
        // even one object (24 bytes at least) would put every batch 2400 bytes or more above its control.
        const int calls = 100, smallestObject = 24;
        var excess = new List<long>();
        for (int batch = 0; batch < 4; batch++)
        {
            long start = Stopwatch.GetTimestamp(), before = GC.GetTotalAllocatedBytes(precise: true);
            for (int call = 0; call < calls; call++)
            {
                AttentionWarmup.Run(call % 2 == 0 ? 1 : 2);
            }

            long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
            var elapsed = Stopwatch.GetElapsedTime(start);
            long controlBefore = GC.GetTotalAllocatedBytes(precise: true);
            Thread.Sleep(elapsed);
            long control = GC.GetTotalAllocatedBytes(precise: true) - controlBefore;
            excess.Add(allocated - control);
        }

        Assert.True(excess.Min() < calls * smallestObject / 2, $"every batch of {calls} warm-ups allocated more than its idle control: {string.Join(", ", excess)} bytes above");
    }

    [Fact]
    public void Run_IsIdempotent_AndChangesNoResult()
    {
        var shape = new AttentionShape(2, 37, 70, 4, 16) { KvHeads = 2, ValueDim = 9 };
        var rng = new Random(TestInputs.DefaultSeed);
        float[] q = TestInputs.Uniform(rng, 2 * 37 * 4 * 16, 1f), k = TestInputs.Uniform(rng, 2 * 70 * 2 * 16, 1f), v = TestInputs.Uniform(rng, 2 * 70 * 2 * 9, 1f);
        var before = new float[2 * 37 * 4 * 9];
        var after = new float[before.Length];
        foreach (var options in new[] { default, new AttentionOptions { IsCausal = true }, new AttentionOptions { Kernel = AttentionKernel.RowByRow } })
        {
            Attention.ComputeMultiHead(q, k, v, before, shape, options);
            AttentionWarmup.Run();
            AttentionWarmup.Run();
            Attention.ComputeMultiHead(q, k, v, after, shape, options);
            Assert.Equal(before, after);
        }
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(64)]
    public void Run_AtEveryDegree_DoesNotThrow(int degree)
    {
        AttentionWarmup.Run(degree);
        AttentionWarmup.Run(degree);
    }

    [Fact]
    public void Run_FromSeveralThreadsAtOnce_DoesNotThrow()
    {
        var errors = new Exception?[4];
        var threads = new Thread[errors.Length];
        for (int t = 0; t < threads.Length; t++)
        {
            int index = t;
            threads[t] = new Thread(() =>
            {
                try
                {
                    for (int round = 0; round < 5; round++)
                    {
                        AttentionWarmup.Run(index % 2 == 0 ? 1 : -1);
                    }
                }
                catch (Exception exception)
                {
                    errors[index] = exception;
                }
            });
            threads[t].Start();
        }

        foreach (var thread in threads)
        {
            Assert.True(thread.Join(TimeSpan.FromSeconds(60)), "a warm-up thread did not finish");
        }

        Assert.All(errors, Assert.Null);
    }

    [Theory]
    [InlineData(-2)]
    [InlineData(int.MinValue)]
    public void Run_DegreeBelowMinusOne_ThrowsNamingIt(int degree)
    {
        var exception = Assert.Throws<ArgumentOutOfRangeException>(() => AttentionWarmup.Run(degree));
        Assert.Equal("maxDegreeOfParallelism", exception.ParamName);
        Assert.Contains(degree.ToString(System.Globalization.CultureInfo.InvariantCulture), exception.Message);
    }
}
