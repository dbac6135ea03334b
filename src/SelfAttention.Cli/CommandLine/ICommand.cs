using System.CommandLine;

namespace SelfAttention.Cli.CommandLine;

/// <summary>One subcommand of the tool.</summary>
internal interface ICommand
{
    /// <summary>The word that selects the command: <c>selfattention NAME …</c>.</summary>
    string Name { get; }

    /// <summary>
    /// Creates the command (once per instance: the options are the instance's): its description (the first line is the summary in the command list), options, notes,
    /// exit codes and at least one example. <see cref="CliApp"/> sets the action, which calls <see cref="Run"/>.
    /// </summary>
    DocumentedCommand Create();

    /// <summary>
    /// Runs the command on a parse result of the command <see cref="Create"/> made, writing to
    /// <paramref name="output"/>; returns an <see cref="ExitCodes"/> value. Throws <see cref="UsageException"/> for bad
    /// input and <see cref="OutputException"/> when an output cannot be written.
    /// </summary>
    int Run(ParseResult parseResult, TextWriter output);
}
