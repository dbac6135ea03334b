using System.CommandLine;
using SelfAttention.Cli.CommandLine;

namespace SelfAttention.Cli;

/// <summary>
/// The tool's entry point: the command tree on the shared command-line layer (<see cref="CommandLineApp"/>: help,
/// usage errors, completion), and the mapping of every failure inside a command to one line and an exit code.
/// </summary>
internal static class CliApp
{
    /// <summary>The command name users type.</summary>
    public const string Name = "selfattention";

    /// <summary>The names of the tool's own commands, in the order <c>--help</c> lists them (<c>completion</c> follows).</summary>
    public static IReadOnlyList<string> CommandNames { get; } = [.. CreateCommands().Select(c => c.Name)];

    // New instances per run: each holds its own option objects, which belong to one command tree.
    private static ICommand[] CreateCommands() => [new Commands.WalkthroughCommand(), new Commands.HeatmapCommand(), new Commands.RunCommand(), new Commands.EmbedCommand()];

    /// <summary>The informational version of the tool.</summary>
    public static string Version =>
        typeof(CliApp).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    /// <summary>Runs the tool with <paramref name="args"/>, writing to <paramref name="output"/> and <paramref name="error"/>; returns the exit code.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var app = new CommandLineApp(Name, "self-attention step by step, attention heatmaps, attention over .npy files, sentence embeddings.", Version);
        foreach (ICommand command in CreateCommands())
        {
            DocumentedCommand built = command.Create();
            built.SetAction(parseResult => Guarded(command.Name, parseResult, command.Run));
            app.Add(built);
        }

        app.Add(CompletionCommand.Create(Name));
        app.ExitCodeHelp = "0 success; 1 an output file cannot be written; 2 bad command line or bad input file.\n"
                           + "On 1 and 2: one line on stderr, and no output file written.";
        app.Examples.Add($"{Name} walkthrough --example 1");
        app.Examples.Add($"{Name} heatmap --sentence \"The cat sat on the mat\" --causal --out cat.svg");
        app.Examples.Add($"{Name} embed \"A man plays a guitar.\" \"Someone plays the guitar.\"");
        app.Examples.Add($"{Name} run --query q.npy --key k.npy --value v.npy --heads 12 --out o.npy");
        return app.Run(args, output, error);
    }

    // Every failure is one bounded line on stderr, never a stack trace. The commands turn what they can foresee into
    // a UsageException (exit 2) or an OutputException (exit 1) with a message in the user's terms; the catches after
    // those two are the net for what a command did not foresee, and say which kind of failure it was.
    private static int Guarded(string name, ParseResult parseResult, Func<ParseResult, TextWriter, int> run)
    {
        TextWriter output = parseResult.InvocationConfiguration.Output, error = parseResult.InvocationConfiguration.Error;
        try
        {
            return run(parseResult, output);
        }
        catch (UsageException e)
        {
            CliText.WriteLine(error, e.Message);
            return ExitCodes.Usage;
        }
        catch (OutputException e)
        {
            CliText.WriteLine(error, e.Message);
            return ExitCodes.Failure;
        }
        catch (ArgumentException e)
        {
            // The library refused an input the command did not check itself: still a bad input, exit 2.
            CliText.WriteLine(error, $"{name}: {e.Message}");
            return ExitCodes.Usage;
        }
        catch (SelfAttention.IO.NpyFormatException e)
        {
            CliText.WriteLine(error, $"{name}: {e.Message}");
            return ExitCodes.Usage;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            CliText.WriteLine(error, $"{name}: {e.Message}");
            return ExitCodes.Failure;
        }
        catch (OutOfMemoryException)
        {
            CliText.WriteLine(error, $"{name}: not enough memory for this input.");
            return ExitCodes.Failure;
        }
        catch (Exception e)
        {
            // A bug in the tool or the library; the type and message are what a report needs.
            CliText.WriteLine(error, $"{name}: internal error (please report it): {e.GetType().FullName}: {e.Message}");
            return ExitCodes.Failure;
        }
    }
}
