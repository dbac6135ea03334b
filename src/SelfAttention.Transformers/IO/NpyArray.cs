using System.Collections.ObjectModel;

namespace SelfAttention.IO;

/// <summary>
/// An array read from a <c>.npy</c> file by <see cref="Npy.Read"/>: its shape, the element type it was stored with, and
/// its elements converted to float32 in row-major (C) order. A 0-d array (a numpy scalar, shape <c>()</c>) has an empty
/// <see cref="Shape"/> and one element, as in numpy; an array with a zero dimension has no elements.
/// </summary>
public sealed class NpyArray
{
    private readonly int[] _shape;

    internal NpyArray(int[] shape, NpyDataType storedType, float[] data)
    {
        _shape = shape;
        Shape = new ReadOnlyCollection<int>(shape);
        StoredType = storedType;
        Data = data;
    }

    /// <summary>The dimensions, outermost first: <c>[seq, heads·dim]</c> is <c>{ seq, heads·dim }</c>; empty for a 0-d array.</summary>
    public IReadOnlyList<int> Shape { get; }

    /// <summary>Number of dimensions: the length of <see cref="Shape"/>, 0 for a scalar.</summary>
    public int Rank => Shape.Count;

    /// <summary>The element type in the file; <see cref="NpyDataType.Float64"/> data was rounded to the nearest float32.</summary>
    public NpyDataType StoredType { get; }

    /// <summary>
    /// The elements in row-major (C) order: element <c>[a, b, c]</c> of shape <c>(A, B, C)</c> is at <c>(a·B + b)·C + c</c>.
    /// Its length is <see cref="ElementCount"/>. The array is owned by the caller and not shared.
    /// </summary>
    public float[] Data { get; }

    /// <summary>Number of elements: the product of <see cref="Shape"/> (1 for a scalar, 0 if any dimension is 0).</summary>
    public int ElementCount => Data.Length;

    /// <summary>The shape as Python prints it and the stored type, for messages: <c>(2, 3) float32</c>, <c>(5,) float64</c>, <c>() float32</c>.</summary>
    /// <returns>The shape and type in one line.</returns>
    public override string ToString() =>
        $"{NpyHeader.FormatShape(_shape)} {(StoredType == NpyDataType.Float32 ? "float32" : "float64")}";
}
