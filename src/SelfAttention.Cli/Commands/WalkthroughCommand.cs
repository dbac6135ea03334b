using SelfAttention.Cli.CommandLine;
using SelfAttention.Cli.Walkthrough;

namespace SelfAttention.Cli.Commands;

/// <summary><c>selfattention walkthrough [--example N] [--json]</c>: the classic examples, step by step.</summary>
internal sealed class WalkthroughCommand : ICommand
{
    public string Name => "walkthrough";

    public string Summary => "the classic self-attention examples, step by step (--example N, --json)";

    public string Help =>
        $"""
        Usage: selfattention walkthrough [--example N] [--json]

        Runs the classic examples through the library and prints every step as labelled matrices
        (token names on rows and columns). Each output is checked against the naive reference.

          1  "I love bears": scores X·Xᵀ, softmax, context embeddings; unscaled, then scaled by 1/√d
          2  "Dream big and work for it": tokens, seeded embeddings, the query "big" against every key,
             divide-by-the-sum against softmax, the context vector
          3  "Write a poem": sinusoidal positions, Q, K, V from seeded 2×2 weights, scaled scores,
             softmax as percentages, output
          4  the same sentence through a two-head layer and its output projection

        Options:
          --example N   run only example N (1 to {Walkthroughs.Count}); default: all
          --json        print the same steps as JSON (for scripts)
          -h, --help    this text

        Exit codes: 0 success; 2 bad option.

        Examples:
          selfattention walkthrough --example 1
          selfattention walkthrough --example 3 --json > example3.json

        """;

    public int Run(ArgumentReader arguments, TextWriter output, TextWriter error)
    {
        int? number = arguments.IntOption("--example", 1, Walkthroughs.Count);
        bool json = arguments.Flag("--json");
        arguments.EnsureAllConsumed();
        var examples = Walkthroughs.Select(number);
        if (json)
        {
            JsonRenderer.Write(examples, output);
        }
        else
        {
            TextRenderer.Write(examples, output);
        }

        return ExitCodes.Success;
    }
}
