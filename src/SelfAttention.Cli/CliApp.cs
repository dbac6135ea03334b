using SelfAttention.Cli.CommandLine;

namespace SelfAttention.Cli;

/// <summary>The tool's entry point: picks the command, prints help, maps failures to exit codes.</summary>
internal static class CliApp
{
    /// <summary>Every command, in the order <c>--help</c> lists them.</summary>
    public static IReadOnlyList<ICommand> Commands { get; } = [new Commands.WalkthroughCommand(), new Commands.HeatmapCommand(), new Commands.RunCommand(), new Commands.BenchCommand()];

    /// <summary>Runs the tool with <paramref name="args"/>, writing to <paramref name="output"/> and <paramref name="error"/>; returns the exit code.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        if (args.Length == 0 || args[0] is "--help" or "-h" or "help")
        {
            if (args.Length > 1 && args[0] == "help")
            {
                return Run([args[1], "--help"], output, error);
            }

            output.Write(GeneralHelp);
            return args.Length == 0 ? ExitCodes.Usage : ExitCodes.Success;
        }

        if (args[0] is "--version")
        {
            output.WriteLine(Version);
            return ExitCodes.Success;
        }

        ICommand? command = Commands.FirstOrDefault(c => c.Name == args[0]);
        if (command is null)
        {
            CliText.WriteLine(error, $"selfattention: unknown command '{CliText.Echo(args[0])}'; commands: {string.Join(", ", Commands.Select(c => c.Name))}. See 'selfattention --help'.");
            return ExitCodes.Usage;
        }

        var arguments = new ArgumentReader(command.Name, args[1..]);
        if (arguments.WantsHelp)
        {
            output.Write(command.Help);
            return ExitCodes.Success;
        }

        // Every failure is one bounded line on stderr, never a stack trace. The commands turn what they can foresee
        // into a UsageException (exit 2) or an OutputException (exit 1) with a message in the user's terms; the
        // catches after those two are the net for what a command did not foresee, and say which kind of failure it was.
        try
        {
            return command.Run(arguments, output, error);
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
            CliText.WriteLine(error, $"{command.Name}: {e.Message}");
            return ExitCodes.Usage;
        }
        catch (SelfAttention.IO.NpyFormatException e)
        {
            CliText.WriteLine(error, $"{command.Name}: {e.Message}");
            return ExitCodes.Usage;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            CliText.WriteLine(error, $"{command.Name}: {e.Message}");
            return ExitCodes.Failure;
        }
        catch (OutOfMemoryException)
        {
            CliText.WriteLine(error, $"{command.Name}: not enough memory for this input.");
            return ExitCodes.Failure;
        }
        catch (Exception e)
        {
            // A bug in the tool or the library; the type and message are what a report needs.
            CliText.WriteLine(error, $"{command.Name}: internal error (please report it): {e.GetType().FullName}: {e.Message}");
            return ExitCodes.Failure;
        }
    }

    /// <summary>The informational version of the tool.</summary>
    public static string Version =>
        typeof(CliApp).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    private static string GeneralHelp =>
        $"""
        selfattention {Version}: self-attention step by step, heatmaps, attention over .npy files, benchmarks.

        Usage: selfattention <command> [options]    (selfattention <command> --help for details)

        Commands:
        {string.Join(Environment.NewLine, Commands.Select(c => $"  {c.Name,-12} {c.Summary}"))}

        Exit codes: 0 success; 1 an output file cannot be written, or a benchmark failed validation;
                    2 bad command line or bad input file. On 1 and 2: one line on stderr, no output file written.

        Example: selfattention walkthrough --example 1

        """;
}
