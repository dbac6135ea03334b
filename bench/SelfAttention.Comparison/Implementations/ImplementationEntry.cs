namespace SelfAttention.Comparison.Implementations;

/// <summary>One line of an <see cref="ImplementationRegistry"/>: a name and how to make a fresh instance.</summary>
/// <param name="Name">The name the instances report as <see cref="AttentionImplementation.Name"/>, shown in tables and matched by filters.</param>
/// <param name="Create">Makes a fresh instance (each harness and each benchmark case owns its own scratch).</param>
/// <param name="RatioHeader">When set, the tables get a column with this header: this implementation's time over each
/// row's (above 1: the row is faster), as <c>×Naive</c> or <c>×BLAS</c>.</param>
public sealed record ImplementationEntry(string Name, Func<AttentionImplementation> Create, string? RatioHeader = null);
