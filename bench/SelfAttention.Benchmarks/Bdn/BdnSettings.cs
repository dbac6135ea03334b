namespace SelfAttention.Benchmarks.Bdn;

/// <summary>
/// The <c>bdn</c> options that change the benchmark parameters. They travel as environment variables because
/// BenchmarkDotNet evaluates the <c>[ParamsSource]</c> members again in each child process, which inherits the host's
/// environment.
/// </summary>
public static class BdnSettings
{
    /// <summary>"1": time the causal mask instead of the full one.</summary>
    public const string CausalVariable = "SELFATTENTION_BENCH_CAUSAL";

    /// <summary>MaxDegreeOfParallelism of the library kernels (default 1).</summary>
    public const string ThreadsVariable = "SELFATTENTION_BENCH_THREADS";

    /// <summary>Whether the calls are causal.</summary>
    public static bool Causal => Environment.GetEnvironmentVariable(CausalVariable) == "1";

    /// <summary>MaxDegreeOfParallelism of the library kernels.</summary>
    public static int Threads =>
        int.TryParse(Environment.GetEnvironmentVariable(ThreadsVariable), out int threads) ? threads : 1;

    /// <summary>The options every timed call gets: <see cref="Causal"/> and <see cref="Threads"/>.</summary>
    public static AttentionOptions AttentionOptions => new() { IsCausal = Causal, MaxDegreeOfParallelism = Threads };
}
