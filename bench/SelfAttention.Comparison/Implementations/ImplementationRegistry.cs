using SelfAttention.Comparison.Peers;

namespace SelfAttention.Comparison.Implementations;

/// <summary>
/// The one list of implementations. The quick harness and the BenchmarkDotNet class iterate over it: adding a kernel
/// to <see cref="AttentionKernel"/> or a line here is all it takes to validate and time it. <see cref="Default"/> holds
/// what this library can run anywhere; a host with more peers (the benchmarks exe adds MathNet and ONNX Runtime) builds its own with
/// <see cref="WithPeers"/> and passes it to <see cref="Quick.QuickCommand.Create(ImplementationRegistry)"/>
/// and <see cref="Quick.QuickRunner"/>.
/// </summary>
public sealed class ImplementationRegistry
{
    private readonly ImplementationEntry[] _entries;

    /// <summary>A registry of <paramref name="entries"/>, in table order.</summary>
    /// <exception cref="ArgumentException">Two entries have the same name (case-insensitive).</exception>
    public ImplementationRegistry(IEnumerable<ImplementationEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        _entries = entries.ToArray();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var entry in _entries)
        {
            if (!seen.Add(entry.Name))
            {
                throw new ArgumentException($"Two implementations are called '{entry.Name}'.", nameof(entries));
            }
        }

        Names = Array.ConvertAll(_entries, e => e.Name);
        RatioColumns = _entries.Where(e => e.RatioHeader is not null).Select(e => new RatioColumn(e.RatioHeader!, e.Name)).ToArray();
    }

    /// <summary>
    /// Naive (the baseline and oracle), one entry per <see cref="AttentionKernel"/>, then the peers: TensorPrimitives
    /// (managed) and OpenBLAS (native; skipped where the library is missing).
    /// </summary>
    public static ImplementationRegistry Default { get; } = WithPeers([]);

    /// <summary>Every name, in table order.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>The speedup columns of the tables, in table order: one per entry with a <see cref="ImplementationEntry.RatioHeader"/>.</summary>
    public IReadOnlyList<RatioColumn> RatioColumns { get; }

    /// <summary>
    /// The <see cref="Default"/> list with <paramref name="extraPeers"/> after the managed peers and before the
    /// native one, OpenBLAS, in the order given; their <see cref="ImplementationEntry.RatioHeader"/>s add speedup
    /// columns between <c>×TP</c> and <c>×BLAS</c>.
    /// </summary>
    /// <exception cref="ArgumentException">An extra peer has the name of another implementation.</exception>
    public static ImplementationRegistry WithPeers(IEnumerable<ImplementationEntry> extraPeers)
    {
        ArgumentNullException.ThrowIfNull(extraPeers);
        var entries = new List<ImplementationEntry> { new(NaiveImplementation.BaselineName, () => new NaiveImplementation(), "×Naive") };
        foreach (var kernel in Enum.GetValues<AttentionKernel>())
        {
            entries.Add(new(LibraryKernelImplementation.NameOf(kernel), () => new LibraryKernelImplementation(kernel)));
        }

        entries.Add(new(TensorPrimitivesPeer.PeerName, () => new TensorPrimitivesPeer(), "×TP"));
        entries.AddRange(extraPeers);
        entries.Add(new(OpenBlasPeer.PeerName, () => new OpenBlasPeer(), "×BLAS"));
        return new ImplementationRegistry(entries);
    }

    /// <summary>A fresh instance of every implementation, in table order.</summary>
    public IReadOnlyList<AttentionImplementation> CreateAll() => Array.ConvertAll(_entries, e => e.Create());

    /// <summary>A fresh instance of the implementation called <paramref name="name"/> (case-insensitive).</summary>
    /// <exception cref="ArgumentException">No implementation has that name.</exception>
    public AttentionImplementation Create(string name)
    {
        foreach (var entry in _entries)
        {
            if (string.Equals(entry.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return entry.Create();
            }
        }

        throw new ArgumentException($"No implementation is called '{name}'; known: {string.Join(", ", Names)}.", nameof(name));
    }
}

/// <summary>A speedup column of the tables: the time of <paramref name="Implementation"/> at the same shape over each row's.</summary>
/// <param name="Header">The column header, such as <c>×BLAS</c>.</param>
/// <param name="Implementation">The implementation whose time is the numerator.</param>
public sealed record RatioColumn(string Header, string Implementation);
