using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace SelfAttention.Kernels;

/// <summary>
/// Software prefetch for row streams whose rows are far apart (a head inside a BSNH buffer: 512 bytes of K every
/// 16 KiB at 32 heads × 128). The hardware prefetchers stop at page boundaries, so each row would otherwise start with
/// a full memory latency. A prefetch never faults, so addresses past the end of a buffer are harmless.
/// On CPUs without a prefetch intrinsic in .NET (Arm) this compiles to nothing.
/// </summary>
internal static unsafe class Prefetch
{
    /// <summary>How many rows ahead to fetch: enough to cover memory latency at streaming speed.</summary>
    public const int RowsAhead = 8;

    /// <summary>Whether this is an Intel CPU (CPUID vendor string "GenuineIntel"): where a fetch policy was measured to differ by vendor.</summary>
    public static readonly bool IsIntel = X86Base.IsSupported && IntelVendor();

    private static bool IntelVendor()
    {
        (_, int ebx, int ecx, int edx) = X86Base.CpuId(0, 0);
        return ebx == 0x756E6547 && edx == 0x49656E69 && ecx == 0x6C65746E;
    }

    /// <summary>
    /// Fetches into all cache levels the up to 512 bytes that start <paramref name="offset"/> floats after
    /// <paramref name="origin"/>. The step is taken on an unmanaged pointer, never as a managed reference, because the
    /// target may lie past the end of the buffer.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Row(ref float origin, nint offset)
    {
        if (Sse.IsSupported)
        {
            byte* p = (byte*)((float*)Unsafe.AsPointer(ref origin) + offset);
            Sse.Prefetch0(p);
            Sse.Prefetch0(p + 64);
            Sse.Prefetch0(p + 128);
            Sse.Prefetch0(p + 192);
            Sse.Prefetch0(p + 256);
            Sse.Prefetch0(p + 320);
            Sse.Prefetch0(p + 384);
            Sse.Prefetch0(p + 448);
        }
    }

    /// <summary>
    /// Fetches into all cache levels the cache lines of the <paramref name="count"/> floats at <paramref name="start"/>
    /// (which may lie past the end of a buffer): one short row without the neighbouring heads' bytes that
    /// <see cref="Row"/> would also bring in.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Floats(float* start, int count) => Lines(start, count, toL2: false);

    /// <summary>Fetches into the L2 cache (not L1) the cache lines of the <paramref name="count"/> floats at <paramref name="start"/>, which may lie past the end of a buffer.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ToL2(float* start, int count) => Lines(start, count, toL2: true);

    // Every cache line of [start, start + count) floats, into all levels or into L2 only (a constant at each caller).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Lines(float* start, int count, bool toL2)
    {
        if (Sse.IsSupported)
        {
            byte* p = (byte*)start, end = (byte*)(start + count);
            for (; p < end; p += 64)
            {
                if (toL2)
                {
                    Sse.Prefetch1(p);
                }
                else
                {
                    Sse.Prefetch0(p);
                }
            }
        }
    }
}
