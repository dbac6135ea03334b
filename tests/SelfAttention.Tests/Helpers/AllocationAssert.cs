using SelfAttention.Tests.Allocation;
using Xunit;

namespace SelfAttention.Tests.Helpers;

/// <summary>
/// The steady-state allocation check, process-wide ("threads included"): every thread's allocations count, the worker
/// pool's helper threads among them.
/// <para>
/// The rule: after the warm-up calls, run the call <c>calls</c> times (200 by default) between two readings of
/// <see cref="GC.GetTotalAllocatedBytes(bool)"/> with <c>precise: true</c>. The window passes when all those calls
/// together allocated fewer than <c>calls</c> bytes, that is less than one byte per call. A failed window is measured
/// again, up to <see cref="Windows"/> windows in all, and a retry must pass by the same rule; if none does, the check
/// fails with every window's total.
/// </para>
/// <para>
/// Why this cannot pass a call that allocates: the smallest object is 24 bytes on a 64-bit runtime, so a call that
/// allocates on any thread every time (or even every 20th time) puts at least <c>calls</c> bytes in every window, the
/// retries included. Why it does not fail on what is not the call's doing: a one-off charge lands in one window and is
/// not repeated in the next. Seen: a few hundred bytes to 7 KB, once, that the runtime makes mid-run at every SIMD
/// width, tiering on or off; a pool helper thread growing its per-thread scratch the first time it wins a work item of a
/// larger size, which the warm-up cannot force (the calling thread may claim every item first) and which can happen
/// twice in a row (6,216 then 16,472 bytes: 1,532 then 4,112 floats), hence three windows rather than two; the shared
/// array pool refilling after a gen-2 trim. Allocations that are not the library's would repeat, so this only runs
/// inside a scenario process of <see cref="AllocationProcess"/>, where the library's threads are the only ones that
/// allocate (in the test host, its parent-process poll allocates 168 bytes every 100 ms), and the tests that start
/// those processes sit in <see cref="AllocationCollection"/>, which xunit runs with no other test in parallel.
/// </para>
/// </summary>
internal static class AllocationAssert
{
    /// <summary>Calls per measured window unless a test asks for another count.</summary>
    public const int DefaultCalls = 200;

    /// <summary>Windows measured at most: the first and two retries.</summary>
    public const int Windows = 3;

    public static void SteadyStateAllocatesNothing(Action call, string context, int warmUpCalls = 3, int calls = DefaultCalls)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(calls, 1);
        if (!AllocationProcess.IsIsolated)
        {
            throw new InvalidOperationException($"{context}: a process-wide allocation check must run in a scenario process (AllocationProcess.Run); the test host's own threads allocate.");
        }

        for (int warmUp = 0; warmUp < warmUpCalls; warmUp++)
        {
            call();
        }

        Span<long> totals = stackalloc long[Windows];
        for (int window = 0; window < Windows; window++)
        {
            totals[window] = MeasureWindow(call, calls);
            if (totals[window] < calls)
            {
                return;
            }
        }

        Assert.Fail($"{context}: {Windows} windows of {calls} steady-state calls allocated {string.Join(", ", totals.ToArray())} bytes on all threads "
                    + $"(limit: under {calls} bytes in one window, less than one byte per call; the last: {(double)totals[Windows - 1] / calls:0.#} bytes per call).");
    }

    /// <summary>Bytes allocated by every thread of the process across <paramref name="calls"/> calls.</summary>
    public static long MeasureWindow(Action call, int calls)
    {
        long before = GC.GetTotalAllocatedBytes(precise: true);
        for (int index = 0; index < calls; index++)
        {
            call();
        }

        return GC.GetTotalAllocatedBytes(precise: true) - before;
    }
}
