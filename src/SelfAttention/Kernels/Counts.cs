namespace SelfAttention.Kernels;

/// <summary>
/// A count known when the JIT compiles a kernel: a micro-kernel generic over it (the rows of a GEMM tile, the vectors
/// of query rows of an attention tile) is specialised per count, so its guarded accumulators and loads are removed
/// where the count excludes them, and one body serves every height.
/// </summary>
internal interface ICount
{
    /// <summary>The count.</summary>
    static abstract int Value { get; }
}

/// <summary>1.</summary>
internal readonly struct One : ICount
{
    public static int Value => 1;
}

/// <summary>2.</summary>
internal readonly struct Two : ICount
{
    public static int Value => 2;
}

/// <summary>3.</summary>
internal readonly struct Three : ICount
{
    public static int Value => 3;
}

/// <summary>4.</summary>
internal readonly struct Four : ICount
{
    public static int Value => 4;
}

/// <summary>6.</summary>
internal readonly struct Six : ICount
{
    public static int Value => 6;
}
