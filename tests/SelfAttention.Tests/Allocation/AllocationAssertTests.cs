using CommunityToolkit.HighPerformance;
using SelfAttention.Tests.Helpers;
using Xunit;
using Xunit.Sdk;

namespace SelfAttention.Tests.Allocation;

/// <summary>
/// The measurement itself: <see cref="AllocationAssert"/> sees an allocation on any thread, catches one that happens
/// only every few calls, and lets a single one-off charge pass; and it refuses to measure in the test host.
/// </summary>
[Collection(AllocationCollection.Name)]
public class AllocationAssertTests
{
    /// <summary>The reference allocates a scratch row per call by design: it must fail the check.</summary>
    [Fact]
    public void SeesTheReferenceAllocate() => AllocationProcess.Run<AllocationAssertTests>(nameof(SeesTheReferenceAllocateScenario));

    private static void SeesTheReferenceAllocateScenario()
    {
        float[] x = TestInputs.Uniform(new Random(1), 8 * 4, 1f), output = new float[8 * 4];
        var e = Assert.Throws<FailException>(() => AllocationAssert.SteadyStateAllocatesNothing(
            () => Reference.NaiveAttention.Compute(new ReadOnlySpan2D<float>(x, 8, 4), new ReadOnlySpan2D<float>(x, 8, 4), new ReadOnlySpan2D<float>(x, 8, 4),
                                                   new Span2D<float>(output, 8, 4)), "reference"));
        Assert.Contains("reference", e.Message);
    }

    /// <summary>One small object every 20th call (240 bytes per 200 calls): still caught, in the retries too.</summary>
    [Fact]
    public void CatchesAnAllocationEvery20thCall() => AllocationProcess.Run<AllocationAssertTests>(nameof(CatchesAnAllocationEvery20thCallScenario));

    private static void CatchesAnAllocationEvery20thCallScenario()
    {
        int count = 0;
        object? kept = null;
        Assert.Throws<FailException>(() => AllocationAssert.SteadyStateAllocatesNothing(() =>
        {
            if (++count % 20 == 0)
            {
                kept = new object();
            }
        }, "every 20th call"));
        GC.KeepAlive(kept);
    }

    /// <summary>"Threads included": an allocation made by another thread on the call's behalf is counted.</summary>
    [Fact]
    public void SeesAnAllocationOnAnotherThread() => AllocationProcess.Run<AllocationAssertTests>(nameof(SeesAnAllocationOnAnotherThreadScenario));

    private static void SeesAnAllocationOnAnotherThreadScenario()
    {
        using var helper = new AllocatingHelper();
        Assert.Throws<FailException>(() => AllocationAssert.SteadyStateAllocatesNothing(helper.RunOnce, "helper thread"));
        Assert.True(helper.Allocations > AllocationAssert.DefaultCalls, $"the helper ran {helper.Allocations} times.");
    }

    /// <summary>Charges in the first two windows (a runtime charge of 7 KB, then a helper's scratch growing) pass on the last retry.</summary>
    [Fact]
    public void PassesOneOffChargesInTwoWindows() => AllocationProcess.Run<AllocationAssertTests>(nameof(PassesOneOffChargesInTwoWindowsScenario));

    private static void PassesOneOffChargesInTwoWindowsScenario()
    {
        int count = 0;
        Array? kept = null;
        AllocationAssert.SteadyStateAllocatesNothing(() =>
        {
            if (++count == 10)
            {
                kept = new byte[7 * 1024];
            }
            else if (count == AllocationAssert.DefaultCalls + 10)
            {
                kept = new float[4112];
            }
        }, "one-off charge");
        Assert.IsType<float[]>(kept);   // both charges fell inside measured windows
    }

    /// <summary>In the test host, whose own threads allocate, a process-wide check would mean nothing: it refuses.</summary>
    [Fact]
    public void RefusesToMeasureInTheTestHost()
    {
        var e = Assert.Throws<InvalidOperationException>(() => AllocationAssert.SteadyStateAllocatesNothing(() => { }, "in the host"));
        Assert.Contains("scenario process", e.Message);
    }

    /// <summary>A background thread that allocates a small object each time the calling thread asks, then signals back.</summary>
    private sealed class AllocatingHelper : IDisposable
    {
        private readonly SemaphoreSlim _start = new(0), _done = new(0);
        private readonly Thread _thread;
        private volatile bool _stop;
        private object? _last;

        public AllocatingHelper()
        {
            _thread = new Thread(Loop) { IsBackground = true };
            _thread.Start();
        }

        public int Allocations { get; private set; }

        public void RunOnce()
        {
            _start.Release();
            _done.Wait();
        }

        public void Dispose()
        {
            _stop = true;
            _start.Release();
            _thread.Join();
            _start.Dispose();
            _done.Dispose();
        }

        private void Loop()
        {
            while (true)
            {
                _start.Wait();
                if (_stop)
                {
                    return;
                }

                _last = new object();
                Allocations++;
                GC.KeepAlive(_last);
                _done.Release();
            }
        }
    }
}
