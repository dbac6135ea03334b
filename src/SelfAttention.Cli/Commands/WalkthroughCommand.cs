using System.CommandLine;
using SelfAttention.Cli.CommandLine;
using SelfAttention.Cli.Walkthrough;

namespace SelfAttention.Cli.Commands;

/// <summary><c>selfattention walkthrough [--example N] [--json]</c>: the classic examples, step by step.</summary>
internal sealed class WalkthroughCommand : ICommand
{
    private readonly Option<int?> _example = ToolOptions.Int("--example", "N", $"run only example N (1 to {Walkthroughs.Count}); default: all", 1, Walkthroughs.Count);

    private readonly Option<bool> _json = new("--json") { Description = "print the same steps as JSON (for scripts)", Arity = ArgumentArity.Zero };

    public string Name => "walkthrough";

    public DocumentedCommand Create()
    {
        var command = new DocumentedCommand(Name, "the classic self-attention examples, step by step (--example N, --json)")
        {
            Notes = """
                Runs the classic examples through the library and prints every step as labelled matrices
                (token names on rows and columns). Each output is checked against the naive reference.
                  1  "I love bears": scores X·Xᵀ, softmax, context embeddings; unscaled, then scaled by 1/√d
                  2  "Dream big and work for it": tokens, seeded embeddings, the query "big" against every key,
                     divide-by-the-sum against softmax, the context vector
                  3  "Write a poem": sinusoidal positions, Q, K, V from seeded 2×2 weights, scaled scores,
                     softmax as percentages, output
                  4  the same sentence through a two-head layer and its output projection
                """,
        };
        command.Add(_example);
        command.Add(_json);
        command.Examples.Add("selfattention walkthrough --example 1");
        command.Examples.Add("selfattention walkthrough --example 3 --json > example3.json");
        return command;
    }

    public int Run(ParseResult parseResult, TextWriter output)
    {
        var examples = Walkthroughs.Select(parseResult.GetValue(_example));
        if (parseResult.GetValue(_json))
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
