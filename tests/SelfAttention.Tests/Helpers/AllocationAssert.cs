using Xunit;

namespace SelfAttention.Tests.Helpers;

/// <summary>
/// The steady-state allocation check: warm up, then measure up to five calls with
/// <see cref="GC.GetAllocatedBytesForCurrentThread"/>. A call that allocates does so every time and fails all five;
/// a one-off charge the runtime makes to the thread mid-run (seen: a few hundred bytes to 7 KB, once, at every SIMD
/// width, with tiering on or off) or a collection started by another thread (dotnet/coreclr#10207) does not repeat.
/// </summary>
internal static class AllocationAssert
{
    public static void SteadyStateAllocatesNothing(Action call, string context, int warmUpCalls = 3)
    {
        for (int warmUp = 0; warmUp < warmUpCalls; warmUp++)
        {
            call();
        }

        var measured = new List<long>();
        for (int attempt = 0; attempt < 5; attempt++)
        {
            int collections = GC.CollectionCount(0);
            long before = GC.GetAllocatedBytesForCurrentThread();
            call();
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (allocated == 0 && GC.CollectionCount(0) == collections)
            {
                return;
            }

            measured.Add(allocated);
        }

        Assert.Fail($"{context}: every measured call allocated ({string.Join(", ", measured)} bytes).");
    }
}
