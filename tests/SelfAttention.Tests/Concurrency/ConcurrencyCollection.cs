using Xunit;

namespace SelfAttention.Tests.Concurrency;

/// <summary>
/// Runs alone: the worker-pool tests need the pool to themselves (a parallel call that finds it busy runs inline,
/// and a test that wants a helper thread to run an item must not meet another test's job).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ConcurrencyCollection
{
    public const string Name = "Concurrency";
}
