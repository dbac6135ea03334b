using SelfAttention.Cli.CommandLine;

namespace SelfAttention.Cli.Commands;

/// <summary>The attention options every command that computes attention accepts, read the same way everywhere.</summary>
internal static class AttentionOptionsReader
{
    /// <summary>The help lines for the options <see cref="Read"/> takes.</summary>
    public const string Help =
        """
          --causal                mask later keys (bottom-right aligned: with more keys than queries,
                                  the last query sees every key, as in KV-cache decoding)
          --scale S               score scale, finite and > 0; default 1/√(head dim)
          --normalization N       softmax (default) or sum (divide by the sum)
          --threads N             worker threads, 1 to 1024, or -1 for every core (the default);
                                  results are identical for any N

        """;

    public static AttentionOptions Read(ArgumentReader arguments, string command)
    {
        bool causal = arguments.Flag("--causal");
        float? scale = arguments.PositiveFloatOption("--scale");
        int threads = arguments.ThreadsOption("--threads") ?? -1;
        var normalization = arguments.Option("--normalization") switch
        {
            null or "softmax" => AttentionNormalization.Softmax,
            "sum" => AttentionNormalization.Sum,
            { } other => throw new UsageException($"{command}: --normalization expects softmax or sum, got '{CliText.Echo(other)}'."),
        };
        return new AttentionOptions { IsCausal = causal, Scale = scale, Normalization = normalization, MaxDegreeOfParallelism = threads };
    }
}
