using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CommunityToolkit.HighPerformance;

namespace SelfAttention.Internal;

/// <summary>
/// The bytes a buffer or view spans, from its first element to its last (pitch gaps included), as a start reference
/// and a 64-bit length: <see cref="MemoryMarshal.AsBytes{T}(ReadOnlySpan{T})"/> cannot describe a float span of 2²⁹
/// elements or more, and a 2-D view can span more than <see cref="int.MaxValue"/> elements.
/// </summary>
internal readonly ref struct MemoryExtent
{
    private readonly ref byte _start;
    private readonly long _bytes;

    private MemoryExtent(ref byte start, long bytes)
    {
        _start = ref start;
        _bytes = bytes;
    }

    /// <summary>The extent of a span; empty for an empty span.</summary>
    public static MemoryExtent Of<T>(ReadOnlySpan<T> span) =>
        span.IsEmpty ? default : new(ref Unsafe.As<T, byte>(ref MemoryMarshal.GetReference(span)), (long)span.Length * Unsafe.SizeOf<T>());

    /// <summary>The extent of a 2-D view from its first element to its last; empty for a view with no elements.</summary>
    public static MemoryExtent Of(ReadOnlySpan2D<float> view)
    {
        if (view.Height == 0 || view.Width == 0)
        {
            return default;
        }

        ref float first = ref Unsafe.AsRef(in view.DangerousGetReference());
        ref float last = ref Unsafe.AsRef(in view.DangerousGetReferenceAt(view.Height - 1, view.Width - 1));
        return new(ref Unsafe.As<float, byte>(ref first), (long)Unsafe.ByteOffset(ref first, ref last) + sizeof(float));
    }

    /// <inheritdoc cref="Of(ReadOnlySpan2D{float})"/>
    public static MemoryExtent Of(Span2D<float> view) => Of((ReadOnlySpan2D<float>)view);

    /// <summary>True when the two extents share at least one byte.</summary>
    public bool Overlaps(in MemoryExtent other)
    {
        if (_bytes == 0 || other._bytes == 0)
        {
            return false;
        }

        // other starts `offset` bytes after this one: they overlap when it starts inside this extent, or this one
        // starts inside it.
        long offset = Unsafe.ByteOffset(ref Unsafe.AsRef(in _start), ref Unsafe.AsRef(in other._start));
        return offset >= 0 ? offset < _bytes : -offset < other._bytes;
    }
}
