using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;

namespace SelfAttention.CommandLine;

/// <summary>
/// The <c>--help</c> action of both command lines: System.CommandLine's generated help (description, usage, options,
/// subcommands) at a fixed width, then the notes, exit codes and examples of the <see cref="DocumentedCommand"/> (or
/// of the <see cref="CommandLineApp"/>, for the top level).
/// </summary>
internal sealed class HelpWithExamplesAction(CommandLineApp app) : SynchronousCommandLineAction
{
    // Fixed, so help reads the same in a terminal, a pipe and a test; wide enough for the longest option line.
    private const int Width = 110;

    private readonly HelpAction _generated = new() { MaxWidth = Width };

    public override bool ClearsParseErrors => true;

    public override int Invoke(ParseResult parseResult)
    {
        _generated.Invoke(parseResult);
        TextWriter output = parseResult.InvocationConfiguration.Output;
        Command shown = parseResult.CommandResult.Command;
        (string? notes, string exitCodes, IList<string> examples) = shown switch
        {
            DocumentedCommand command => (command.Notes, command.ExitCodeHelp, command.Examples),
            _ when shown == app.Root => (app.Notes, app.ExitCodeHelp, app.Examples),
            _ => (null, "", []),
        };

        if (notes is not null)
        {
            output.WriteLine(notes.TrimEnd());
            output.WriteLine();
        }

        if (exitCodes.Length > 0)
        {
            output.WriteLine("Exit codes:");
            output.WriteLine(Indent(exitCodes));
            output.WriteLine();
        }

        if (examples.Count == 0)
        {
            return ExitCodes.Success;
        }

        output.WriteLine(examples.Count == 1 ? "Example:" : "Examples:");
        foreach (string example in examples)
        {
            output.WriteLine("  " + example);
        }

        output.WriteLine();
        return ExitCodes.Success;
    }

    private static string Indent(string text) =>
        string.Join(Environment.NewLine, text.TrimEnd().Split('\n').Select(line => "  " + line.TrimEnd('\r')));
}
