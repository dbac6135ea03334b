namespace SelfAttention.Kernels.Masks;

/// <summary>
/// Where element (batch, head, i, j) of a dense mask (<see cref="AdditiveMask"/>, <see cref="BooleanMask"/>) lives:
/// <c>b·BatchStride + h·HeadStride + i·QueryStride + j·KeyStride</c> elements from its start, PyTorch's broadcast
/// <c>[B or 1, H or 1, QueryLength, KeyLength]</c> with stride 0 for a broadcast dimension, so a mask shared by every
/// sequence or head is read in place, never copied. Validated against the mask's length before any kernel runs.
/// </summary>
internal readonly struct DenseMaskLayout
{
    public readonly nint BatchStride, HeadStride, QueryStride, KeyStride;

    public DenseMaskLayout(nint batchStride, nint headStride, nint queryStride, nint keyStride)
    {
        BatchStride = batchStride;
        HeadStride = headStride;
        QueryStride = queryStride;
        KeyStride = keyStride;
    }

    /// <summary>Element offset of (batch, head, 0, 0).</summary>
    public nint Head(int batch, int head) => batch * BatchStride + head * HeadStride;
}
