using System.CommandLine;

namespace SelfAttention.Cli.Commands;

/// <summary>
/// The attention options of every command that computes attention (<c>--causal</c>, <c>--scale</c>,
/// <c>--normalization</c>, <c>--threads</c>), added to a command by <see cref="AddTo"/> and read the same way
/// everywhere by <see cref="Read"/>. <c>--causal</c> and <c>--threads</c> are the definitions the benchmarks exe shares.
/// </summary>
internal sealed class AttentionOptionSet
{
    private readonly Option<bool> _causal = CommonOptions.Causal();

    private readonly Option<float?> _scale = new("--scale")
    {
        Description = "score scale, finite and > 0 in float32; default 1/√(head dim)",
        HelpName = "S",
        CustomParser = CommonOptions.ParsePositiveFloat,
    };

    private readonly Option<string> _normalization = CommonOptions.Choice("--normalization", "softmax (default), or sum: divide by the sum", "softmax", "sum");

    private readonly Option<int> _threads = CommonOptions.Threads();

    /// <summary>Adds the four options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        command.Add(_causal);
        command.Add(_scale);
        command.Add(_normalization);
        command.Add(_threads);
    }

    /// <summary>The options as given in <paramref name="parseResult"/>.</summary>
    public AttentionOptions Read(ParseResult parseResult) => new()
    {
        IsCausal = parseResult.GetValue(_causal),
        Scale = parseResult.GetValue(_scale),
        Normalization = parseResult.GetValue(_normalization) == "sum" ? AttentionNormalization.Sum : AttentionNormalization.Softmax,
        MaxDegreeOfParallelism = parseResult.GetValue(_threads),
    };
}
