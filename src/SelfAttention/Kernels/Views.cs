using System.Runtime.CompilerServices;
using CommunityToolkit.HighPerformance;

namespace SelfAttention.Kernels;

/// <summary>Small facts about validated views that every kernel needs.</summary>
internal static class Views
{
    /// <summary>
    /// Distance in floats from one row of <paramref name="view"/> to the next (width + pitch). Span2D does not expose
    /// its pitch, so it is read off the addresses of two rows; a view with fewer than two rows never steps.
    /// </summary>
    public static nint RowStride(ReadOnlySpan2D<float> view)
    {
        if (view.Height < 2)
        {
            return view.Width;
        }

        ref float row0 = ref Unsafe.AsRef(in view.DangerousGetReferenceAt(0, 0));
        ref float row1 = ref Unsafe.AsRef(in view.DangerousGetReferenceAt(1, 0));
        return Unsafe.ByteOffset(ref row0, ref row1) / sizeof(float);
    }
}
