using System.Diagnostics;
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

    [ThreadStatic]
    private static float[]? t_call;

    /// <summary>
    /// A span of exactly <paramref name="length"/> floats (contents undefined) whose first element is 64-byte aligned.
    /// The dispatcher has checked the length against <see cref="MaxLength"/> before any work started.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static Span<float> Get(long length) => Get(ref t_buffer, length);

    /// <summary>
    /// As <see cref="Get(long)"/>, from a second buffer of the thread's for what a call prepares before its work items
    /// run (a dense mask's tile-order copy) and they all read: the calling thread may run items itself, whose tiles take
    /// <see cref="Get(long)"/>'s buffer, so the two never share memory.
    /// </summary>
    public static Span<float> GetForCall(long length) => Get(ref t_call, length);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Span<float> Get(ref float[]? field, long length)
    {
        Debug.Assert(length >= 0 && length <= MaxLength, "scratch length outside what the dispatcher allows");
        float[]? buffer = field;
        if (buffer is null || buffer.Length < length + AlignmentFloats)
        {
            // Pinned, so the alignment computed below stays true for the buffer's lifetime.
            buffer = GC.AllocateUninitializedArray<float>((int)length + AlignmentFloats, pinned: true);
            field = buffer;
        }

        nint address = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));
        int skip = (int)((64 - (address & 63)) & 63) / sizeof(float);
        return buffer.AsSpan(skip, (int)length);
    }

    /// <summary>The longest scratch a thread can hold: one float array, less the alignment slack.</summary>
    public const long MaxLength = 0x7FFFFFC7 - AlignmentFloats;
}
