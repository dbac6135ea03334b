using System.Diagnostics;
using SelfAttention.Kernels;
using Xunit;

namespace SelfAttention.Tests.Concurrency;

/// <summary>
/// The worker pool called directly with bodies that throw, nest and race: an exception from any item reaches the
/// caller, every item that started has finished when <see cref="WorkerPool.Run"/> returns or throws (the caller's
/// buffers are pinned only until then), no item is claimed after a failure, the helper threads survive and keep
/// working, and a nested or concurrent call never disturbs the running job.
/// </summary>
/// <remarks>
/// Bodies are static methods with static state (the pool takes function pointers), so the class runs in its own
/// non-parallel collection. Waits are bounded by <see cref="Deadline"/>, so a broken pool fails instead of hanging.
/// Tests that need a helper thread return early on a one-CPU machine, where the pool never starts one.
/// </remarks>
[Collection(ConcurrencyCollection.Name)]
public unsafe class WorkerPoolTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    private static int s_callerThread;
    private static int s_inFlight;
    private static int s_started;
    private static int s_finished;
    private static int s_helperStarted;
    private static int s_helperItems;
    private static int s_throwAt;
    private static int[] s_counts = [];
    private static int s_regionLength;

    private static bool HelpersPossible => Environment.ProcessorCount >= 2;

    private static bool OnHelper => Environment.CurrentManagedThreadId != Volatile.Read(ref s_callerThread);

    [Fact]
    public void HelperException_ReachesCaller_AfterEveryStartedItemFinished()
    {
        if (!HelpersPossible)
        {
            return;
        }

        const int items = 1000;
        Reset(items);
        var exception = Assert.Throws<ItemException>(() => WorkerPool.Run(default, items, 2, &ThrowOnFirstHelperItem));

        Assert.True(exception.OnHelper, "the rethrown exception is the helper's");
        Assert.Equal(0, Volatile.Read(ref s_inFlight));
        Assert.Equal(Volatile.Read(ref s_started), Volatile.Read(ref s_finished));
        Assert.True(s_started < items, $"items were still claimed after the failure: {s_started} of {items} started");
        Assert.Contains(nameof(ThrowOnFirstHelperItem), exception.StackTrace ?? "");
        AssertPoolHealthy();
    }

    [Fact]
    public void CallerException_WaitsForRunningHelperItems()
    {
        if (!HelpersPossible)
        {
            return;
        }

        const int items = 100;
        Reset(items);
        var exception = Assert.Throws<ItemException>(() => WorkerPool.Run(default, items, 2, &ThrowOnCallerWhileHelperRuns));

        // A helper item takes 20 ms; the caller throws while one runs. Returning before it ends leaves it in flight.
        Assert.False(exception.OnHelper);
        Assert.Equal(0, Volatile.Read(ref s_inFlight));
        Assert.Equal(Volatile.Read(ref s_started), Volatile.Read(ref s_finished));
        Assert.True(s_started < items, $"items were still claimed after the failure: {s_started} of {items} started");
        AssertPoolHealthy();
    }

    [Fact]
    public void BothThrow_OneExceptionReachesCaller()
    {
        if (!HelpersPossible)
        {
            return;
        }

        const int items = 100;
        Reset(items);
        var exception = Assert.Throws<ItemException>(() => WorkerPool.Run(default, items, 2, &ThrowOnBoth));

        Assert.Equal(0, Volatile.Read(ref s_inFlight));
        Assert.Equal(Volatile.Read(ref s_started), Volatile.Read(ref s_finished));
        Assert.True(exception.Item >= 0);
        AssertPoolHealthy();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    [InlineData(499)]
    public void ExceptionOnItemK_ReachesCaller_AtEveryDegree(int throwAt)
    {
        foreach (int degree in new[] { 1, 2, -1 })
        {
            const int items = 500;
            Reset(items);
            Volatile.Write(ref s_throwAt, throwAt);
            var exception = Assert.Throws<ItemException>(() => WorkerPool.Run(default, items, degree, &ThrowOnItem));

            Assert.Equal(throwAt, exception.Item);
            Assert.Equal(0, Volatile.Read(ref s_inFlight));
            Assert.Equal(Volatile.Read(ref s_started), Volatile.Read(ref s_finished));
            Assert.Equal(1, s_counts[throwAt]);
            Assert.All(s_counts, count => Assert.InRange(count, 0, 1));
        }

        AssertPoolHealthy();
    }

    [Fact]
    public void RepeatedFailures_LeaveThePoolWorking()
    {
        for (int round = 0; round < 50; round++)
        {
            const int items = 64;
            Reset(items);
            Volatile.Write(ref s_throwAt, round % items);
            Assert.Throws<ItemException>(() => WorkerPool.Run(default, items, 2, &ThrowOnItem));
            Assert.Equal(0, Volatile.Read(ref s_inFlight));
        }

        AssertPoolHealthy();
    }

    [Fact]
    public void NestedRun_FromInsideItems_RunsEveryInnerItemOnce()
    {
        const int outer = 16, inner = NestedInnerItems;
        Reset(outer * inner, regionLength: inner);
        WorkerPool.Run(default, outer, 2, &RunNested);

        Assert.All(s_counts, count => Assert.Equal(1, count));
        Assert.Equal(0, Volatile.Read(ref s_inFlight));
        AssertPoolHealthy();
    }

    [Fact]
    public void NestedRun_InnerException_ReachesOuterCaller()
    {
        const int outer = 16, inner = NestedInnerItems;
        Reset(outer * inner);
        Volatile.Write(ref s_throwAt, 5 * inner + 3);
        var exception = Assert.Throws<ItemException>(() => WorkerPool.Run(default, outer, 2, &RunNestedThrowing));

        Assert.Equal(3, exception.Item);
        Assert.Equal(0, Volatile.Read(ref s_inFlight));
        Assert.Equal(Volatile.Read(ref s_started), Volatile.Read(ref s_finished));
        AssertPoolHealthy();
    }

    [Fact]
    public void ConcurrentCallers_EachRunEveryItemOnce()
    {
        const int threads = 4, rounds = 200, items = 64;
        Reset(threads * items, regionLength: items);
        var errors = new Exception?[threads];
        var workers = new Thread[threads];
        for (int t = 0; t < threads; t++)
        {
            int index = t;
            workers[t] = new Thread(() =>
            {
                try
                {
                    for (int round = 0; round < rounds; round++)
                    {
                        WorkerPool.Run(new AttentionProblem { Batch = index }, items, 2, &CountInRegion);
                    }
                }
                catch (Exception exception)
                {
                    errors[index] = exception;
                }
            });
            workers[t].Start();
        }

        foreach (var worker in workers)
        {
            Assert.True(worker.Join(Deadline), "a concurrent caller did not finish");
        }

        Assert.All(errors, Assert.Null);
        Assert.All(s_counts, count => Assert.Equal(rounds, count));
        AssertPoolHealthy();
    }

    /// <summary>
    /// Runs 2000 counting items with degree 2 and checks each ran exactly once; where helpers are possible, the
    /// caller's items wait until a helper has run one, which proves the helper threads are still alive.
    /// </summary>
    private static void AssertPoolHealthy()
    {
        const int items = 2000;
        Reset(items);
        WorkerPool.Run(default, items, 2, &CountWithHelper);
        Assert.All(s_counts, count => Assert.Equal(1, count));
        if (HelpersPossible)
        {
            Assert.True(Volatile.Read(ref s_helperItems) > 0, "no helper thread ran an item");
        }
    }

    private static void Reset(int countLength, int regionLength = 0)
    {
        s_regionLength = regionLength;
        Volatile.Write(ref s_callerThread, Environment.CurrentManagedThreadId);
        s_inFlight = s_started = s_finished = s_helperStarted = s_helperItems = 0;
        s_throwAt = -1;
        s_counts = new int[countLength];
        Interlocked.MemoryBarrier();
    }

    private static void Enter(int index)
    {
        Interlocked.Increment(ref s_inFlight);
        Interlocked.Increment(ref s_started);
        Interlocked.Increment(ref s_counts[index]);
        if (OnHelper)
        {
            Interlocked.Increment(ref s_helperItems);
            Volatile.Write(ref s_helperStarted, 1);
        }
    }

    private static void Leave()
    {
        Interlocked.Increment(ref s_finished);
        Interlocked.Decrement(ref s_inFlight);
    }

    private static void WaitForHelper()
    {
        var clock = Stopwatch.StartNew();
        while (Volatile.Read(ref s_helperStarted) == 0 && clock.Elapsed < Deadline)
        {
            Thread.SpinWait(100);
        }
    }

    private static void Spin(double microseconds)
    {
        long until = Stopwatch.GetTimestamp() + (long)(microseconds * Stopwatch.Frequency / 1e6);
        while (Stopwatch.GetTimestamp() < until)
        {
            Thread.SpinWait(10);
        }
    }

    private static void ThrowOnFirstHelperItem(in AttentionProblem problem, int item)
    {
        Enter(item);
        try
        {
            if (OnHelper)
            {
                throw new ItemException(item, onHelper: true);
            }

            WaitForHelper();
            Spin(50);
        }
        finally
        {
            Leave();
        }
    }

    private static void ThrowOnCallerWhileHelperRuns(in AttentionProblem problem, int item)
    {
        Enter(item);
        try
        {
            if (OnHelper)
            {
                Spin(20_000);
                return;
            }

            WaitForHelper();
            throw new ItemException(item, onHelper: false);
        }
        finally
        {
            Leave();
        }
    }

    private static void ThrowOnBoth(in AttentionProblem problem, int item)
    {
        Enter(item);
        try
        {
            if (!OnHelper)
            {
                WaitForHelper();
            }

            throw new ItemException(item, OnHelper);
        }
        finally
        {
            Leave();
        }
    }

    private static void ThrowOnItem(in AttentionProblem problem, int item)
    {
        Enter(item);
        try
        {
            Spin(5);
            if (item == Volatile.Read(ref s_throwAt))
            {
                throw new ItemException(item, OnHelper);
            }
        }
        finally
        {
            Leave();
        }
    }

    private static void CountWithHelper(in AttentionProblem problem, int item)
    {
        Enter(item);
        try
        {
            if (HelpersPossible && !OnHelper)
            {
                WaitForHelper();
            }
        }
        finally
        {
            Leave();
        }
    }

    private const int NestedInnerItems = 24;

    private static void RunNested(in AttentionProblem problem, int item)
    {
        WorkerPool.Run(new AttentionProblem { Batch = item }, NestedInnerItems, 2, &CountInRegion);
    }

    private static void RunNestedThrowing(in AttentionProblem problem, int item)
    {
        WorkerPool.Run(new AttentionProblem { Batch = item }, NestedInnerItems, 2, &CountInRegionThrowing);
    }

    // Region problem.Batch of s_counts, s_regionLength long: the nested and concurrent tests give every call its own.
    private static void CountInRegion(in AttentionProblem problem, int item)
    {
        Interlocked.Increment(ref s_counts[problem.Batch * Volatile.Read(ref s_regionLength) + item]);
    }

    private static void CountInRegionThrowing(in AttentionProblem problem, int item)
    {
        int index = problem.Batch * NestedInnerItems + item;
        Enter(index);
        try
        {
            if (index == Volatile.Read(ref s_throwAt))
            {
                throw new ItemException(item, OnHelper);
            }
        }
        finally
        {
            Leave();
        }
    }

    private sealed class ItemException(int item, bool onHelper) : Exception($"item {item} failed on the {(onHelper ? "helper" : "caller")}")
    {
        public int Item { get; } = item;

        public bool OnHelper { get; } = onHelper;
    }
}
