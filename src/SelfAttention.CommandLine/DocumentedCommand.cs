using System.CommandLine;

namespace SelfAttention.CommandLine;

/// <summary>
/// A command whose generated <c>--help</c> ends with what System.CommandLine does not generate: at least one
/// example and the exit codes, and any notes that belong after the option list.
/// </summary>
/// <param name="name">The word that selects the command.</param>
/// <param name="description">What the command does: the first line is its summary in the parent's command list.</param>
public class DocumentedCommand(string name, string description) : Command(name, description)
{
    /// <summary>Example command lines, each shown on a line of its own under "Examples:". Every command has at least one.</summary>
    public IList<string> Examples { get; } = [];

    /// <summary>Paragraphs printed after the option list and before the examples (how inputs are read, limits), or <see langword="null"/>.</summary>
    public string? Notes { get; init; }

    /// <summary>The "Exit codes:" paragraph of this command.</summary>
    public string ExitCodeHelp { get; init; } = "0 success; 2 bad command line.";
}
