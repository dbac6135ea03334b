namespace SelfAttention.Comparison.Implementations;

/// <summary>The library's public entry point with one <see cref="AttentionKernel"/> forced; <see cref="AttentionKernel.Auto"/> is what users get.</summary>
public sealed class LibraryKernelImplementation(AttentionKernel kernel) : AttentionImplementation
{
    /// <summary>The kernel every call asks for.</summary>
    public AttentionKernel Kernel { get; } = kernel;

    /// <inheritdoc/>
    public override string Name => NameOf(Kernel);

    /// <inheritdoc/>
    public override bool UsesThreads => true;

    /// <summary>The table name of a kernel: the row-by-row kernel is the "Vectorized" implementation of the design.</summary>
    public static string NameOf(AttentionKernel kernel) => kernel switch
    {
        AttentionKernel.RowByRow => "Vectorized/RowByRow",
        _ => kernel.ToString(),
    };

    /// <inheritdoc/>
    public override void Run(ReadOnlySpan<float> query, ReadOnlySpan<float> key, ReadOnlySpan<float> value,
                             Span<float> output, AttentionShape shape, AttentionOptions options) =>
        Attention.ComputeMultiHead(query, key, value, output, shape, options with { Kernel = Kernel });
}
