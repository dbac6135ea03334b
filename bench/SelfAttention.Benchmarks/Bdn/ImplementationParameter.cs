using SelfAttention.Comparison.Implementations;

namespace SelfAttention.Benchmarks.Bdn;

/// <summary>
/// An implementation's name as a BenchmarkDotNet parameter that sorts in registry order (Naive first, then the library
/// kernels, then the peers) rather than alphabetically; BenchmarkDotNet orders parameters through <see cref="IComparable"/>.
/// </summary>
/// <param name="Name">The name in <see cref="BenchmarkRegistry.Implementations"/>.</param>
public sealed record ImplementationParameter(string Name) : IComparable<ImplementationParameter>, IComparable
{
    /// <summary>Every implementation, in registry order.</summary>
    public static IEnumerable<ImplementationParameter> All => BenchmarkRegistry.Implementations.Names.Select(n => new ImplementationParameter(n));

    private int Order => BenchmarkRegistry.Implementations.Names.ToList().IndexOf(Name);

    /// <inheritdoc/>
    public int CompareTo(ImplementationParameter? other) => other is null ? 1 : Order.CompareTo(other.Order);

    /// <inheritdoc/>
    public int CompareTo(object? obj) => CompareTo(obj as ImplementationParameter);

    /// <inheritdoc/>
    public override string ToString() => Name;
}
