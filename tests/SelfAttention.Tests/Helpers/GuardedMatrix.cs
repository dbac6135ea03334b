using CommunityToolkit.HighPerformance;
using Xunit;

namespace SelfAttention.Tests.Helpers;

/// <summary>
/// A <c>[Height, Width]</c> view with a row pitch inside a larger array whose every other element (a leading guard, the
/// pitch gaps between rows, a trailing guard) holds a guard value. For outputs the guard is <see cref="Sentinel"/> and
/// <see cref="AssertGuardsIntact"/> proves nothing was written outside the view; for inputs the guard is NaN, so a
/// kernel that reads outside its view poisons its result, and <see cref="AssertUnchanged"/> proves the input was not written.
/// <code>
/// [ lead guard | row 0 (Width) | gap (Pitch) | row 1 | gap | … | row Height−1 | trailing guard ]
/// </code>
/// </summary>
public sealed class GuardedMatrix
{
    /// <summary>The value written around outputs; no kernel computes it by accident for the inputs we generate.</summary>
    public const float Sentinel = 12345f;

    private readonly float _guard;
    private float[]? _snapshot;

    public GuardedMatrix(int height, int width, int pitch = 0, int lead = 0, int trail = 0, float guard = Sentinel)
    {
        Assert.True(height >= 0 && width >= 0 && pitch >= 0 && lead >= 0 && trail >= 0);
        Height = height;
        Width = width;
        Pitch = height == 0 || width == 0 ? 0 : pitch;
        Offset = lead;
        int span = height == 0 || width == 0 ? 0 : (height - 1) * (width + Pitch) + width;

        // Span2D rejects a [0, width] view with fewer than width elements behind its offset.
        Buffer = new float[lead + span + Math.Max(trail, height == 0 ? width : 0)];
        _guard = guard;
        Buffer.AsSpan().Fill(guard);
    }

    /// <summary>An output matrix guarded by <see cref="Sentinel"/>: random lead, pitch and trail, or (when <paramref name="pitched"/> is false) no pitch and one guard element each side.</summary>
    public static GuardedMatrix Output(int height, int width, Random rng, bool pitched) =>
        pitched ? new GuardedMatrix(height, width, rng.Next(1, 9), rng.Next(1, 17), rng.Next(1, 17), Sentinel)
                : new GuardedMatrix(height, width, 0, 1, 1, Sentinel);

    /// <summary>An input matrix filled with <paramref name="values"/> (row-major, <c>height·width</c>), guarded by NaN.</summary>
    public static GuardedMatrix Input(int height, int width, ReadOnlySpan<float> values, Random rng, bool pitched)
    {
        var matrix = pitched ? new GuardedMatrix(height, width, rng.Next(1, 9), rng.Next(1, 17), rng.Next(1, 17), float.NaN)
                             : new GuardedMatrix(height, width, 0, 1, 1, float.NaN);
        matrix.CopyFrom(values);
        matrix.Snapshot();
        return matrix;
    }

    public float[] Buffer { get; }

    public int Offset { get; }

    public int Height { get; }

    public int Width { get; }

    public int Pitch { get; }

    public Span2D<float> View => Height == 0 || Width == 0 ? new Span2D<float>(Buffer, Offset, Height, Width, 0) : new Span2D<float>(Buffer, Offset, Height, Width, Pitch);

    public ReadOnlySpan2D<float> ReadOnlyView => View;

    public float this[int row, int column]
    {
        get => Buffer[Index(row, column)];
        set => Buffer[Index(row, column)] = value;
    }

    public int Index(int row, int column) => Offset + row * (Width + Pitch) + column;

    /// <summary>Copies row-major values into the view.</summary>
    public void CopyFrom(ReadOnlySpan<float> values)
    {
        Assert.Equal(Height * Width, values.Length);
        for (int i = 0; i < Height; i++)
        {
            values.Slice(i * Width, Width).CopyTo(Buffer.AsSpan(Index(i, 0), Width));
        }
    }

    /// <summary>Sets every element of the view (not the guards).</summary>
    public void FillView(float value)
    {
        for (int i = 0; i < Height; i++)
        {
            Buffer.AsSpan(Index(i, 0), Width).Fill(value);
        }
    }

    /// <summary>The view's elements, row-major.</summary>
    public float[] ToDense()
    {
        var dense = new float[Height * Width];
        for (int i = 0; i < Height; i++)
        {
            Buffer.AsSpan(Index(i, 0), Width).CopyTo(dense.AsSpan(i * Width));
        }

        return dense;
    }

    /// <summary>Remembers the whole buffer so <see cref="AssertUnchanged"/> can prove it was only read.</summary>
    public void Snapshot() => _snapshot = (float[])Buffer.Clone();

    /// <summary>Every guard element (lead, pitch gaps, trail) still holds the guard value.</summary>
    public void AssertGuardsIntact(string context)
    {
        for (int index = 0; index < Buffer.Length; index++)
        {
            if (IsInView(index))
            {
                continue;
            }

            float value = Buffer[index];
            bool intact = float.IsNaN(_guard) ? float.IsNaN(value) : value.Equals(_guard);
            if (!intact)
            {
                Assert.Fail($"{context}: guard element {index} (view offset {Offset}, [{Height}, {Width}] pitch {Pitch}, buffer {Buffer.Length}) was overwritten with {value}.");
            }
        }
    }

    /// <summary>The buffer is bit-for-bit what it was at the last <see cref="Snapshot"/>.</summary>
    public void AssertUnchanged(string context)
    {
        Assert.NotNull(_snapshot);
        for (int index = 0; index < Buffer.Length; index++)
        {
            if (BitConverter.SingleToInt32Bits(Buffer[index]) != BitConverter.SingleToInt32Bits(_snapshot![index]))
            {
                Assert.Fail($"{context}: input element {index} changed from {_snapshot[index]} to {Buffer[index]}.");
            }
        }
    }

    private bool IsInView(int index)
    {
        int local = index - Offset;
        if (local < 0 || Height == 0 || Width == 0)
        {
            return false;
        }

        int stride = Width + Pitch;
        int row = local / stride, column = local % stride;
        return row < Height && column < Width;
    }
}
