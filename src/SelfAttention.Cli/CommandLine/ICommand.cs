namespace SelfAttention.Cli.CommandLine;

/// <summary>One subcommand of the tool.</summary>
internal interface ICommand
{
    /// <summary>The word that selects the command: <c>selfattention NAME …</c>.</summary>
    string Name { get; }

    /// <summary>One line for the command list.</summary>
    string Summary { get; }

    /// <summary>The full <c>--help</c> text: usage, options, at least one example line.</summary>
    string Help { get; }

    /// <summary>Runs the command; returns an <see cref="ExitCodes"/> value. Throws <see cref="UsageException"/> for bad input.</summary>
    int Run(ArgumentReader arguments, TextWriter output, TextWriter error);
}
