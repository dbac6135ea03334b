namespace SelfAttention.IO;

/// <summary>The element type of an array as stored in a <c>.npy</c> file: little-endian IEEE 754 floats.</summary>
public enum NpyDataType
{
    /// <summary>32-bit floats, dtype descriptor <c>'&lt;f4'</c> (<c>numpy.float32</c>); read bit-exactly.</summary>
    Float32,

    /// <summary>64-bit floats, dtype descriptor <c>'&lt;f8'</c> (<c>numpy.float64</c>); rounded to the nearest float32 when read.</summary>
    Float64,
}
