using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace SelfAttention.Kernels;

/// <summary>
/// One pinned, 64-byte-aligned float buffer per thread, grown on demand and then reused, so a kernel's tiles cost no
/// allocation in steady state and never straddle cache lines. A buffer belongs to its thread until that thread's
/// next call; kernels do not call each other while holding it.
/// </summary>
internal static unsafe class ThreadScratch
{
    private const int AlignmentFloats = 64 / sizeof(float);

    [ThreadStatic]
    private static float[]? t_buffer;

    /// <summary>A span of exactly <paramref name="length"/> floats (contents undefined) whose first element is 64-byte aligned.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static Span<float> Get(int length)
    {
        float[]? buffer = t_buffer;
        if (buffer is null || buffer.Length < length + AlignmentFloats)
        {
            // Pinned, so the alignment computed below stays true for the buffer's lifetime.
            buffer = GC.AllocateUninitializedArray<float>(length + AlignmentFloats, pinned: true);
            t_buffer = buffer;
        }

        nint address = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));
        int skip = (int)((64 - (address & 63)) & 63) / sizeof(float);
        return buffer.AsSpan(skip, length);
    }
}
