using SelfAttention.Benchmarks.Peers;

namespace SelfAttention.Benchmarks.Implementations;

/// <summary>
/// The one list of implementations. Both the BenchmarkDotNet class and the quick harness iterate over it: adding a
/// kernel to <see cref="AttentionKernel"/> or a line here is all it takes to validate and time it.
/// </summary>
public static class ImplementationRegistry
{
    private static readonly (string Name, Func<AttentionImplementation> Create)[] s_entries = BuildEntries();

    /// <summary>Every name, in table order: the baseline first, then the library kernels, then the peers.</summary>
    public static IReadOnlyList<string> Names { get; } = Array.ConvertAll(s_entries, e => e.Name);

    /// <summary>A fresh instance of every implementation, in table order.</summary>
    public static IReadOnlyList<AttentionImplementation> CreateAll() => Array.ConvertAll(s_entries, e => e.Create());

    /// <summary>A fresh instance of the implementation called <paramref name="name"/> (case-insensitive).</summary>
    /// <exception cref="ArgumentException">No implementation has that name.</exception>
    public static AttentionImplementation Create(string name)
    {
        foreach (var (entryName, create) in s_entries)
        {
            if (string.Equals(entryName, name, StringComparison.OrdinalIgnoreCase))
            {
                return create();
            }
        }

        throw new ArgumentException($"No implementation is called '{name}'; known: {string.Join(", ", Names)}.", nameof(name));
    }

    private static (string, Func<AttentionImplementation>)[] BuildEntries()
    {
        var entries = new List<(string, Func<AttentionImplementation>)>
        {
            (NaiveImplementation.BaselineName, () => new NaiveImplementation()),
        };
        foreach (var kernel in Enum.GetValues<AttentionKernel>())
        {
            entries.Add((LibraryKernelImplementation.NameOf(kernel), () => new LibraryKernelImplementation(kernel)));
        }

        entries.Add((TensorPrimitivesPeer.PeerName, () => new TensorPrimitivesPeer()));
        entries.Add((MathNetPeer.PeerName, () => new MathNetPeer()));
        entries.Add((OpenBlasPeer.PeerName, () => new OpenBlasPeer()));
        return entries.ToArray();
    }
}
