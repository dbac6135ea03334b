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
            error.WriteLine($"selfattention: unknown command '{args[0]}'; commands: {string.Join(", ", Commands.Select(c => c.Name))}. See 'selfattention --help'.");
            return ExitCodes.Usage;
        }

        var arguments = new ArgumentReader(command.Name, args[1..]);
        if (arguments.WantsHelp)
        {
            output.Write(command.Help);
            return ExitCodes.Success;
        }

        try
        {
            return command.Run(arguments, output, error);
        }
        catch (UsageException e)
        {
            error.WriteLine(e.Message);
            return ExitCodes.Usage;
        }
        catch (IOException e)
        {
            error.WriteLine($"{command.Name}: {e.Message}");
            return ExitCodes.Failure;
        }
        catch (UnauthorizedAccessException e)
        {
            error.WriteLine($"{command.Name}: {e.Message}");
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

        Exit codes: 0 success; 1 the command ran and failed (I/O error, benchmark validation);
                    2 bad command line or bad input file (nothing written).

        Example: selfattention walkthrough --example 1

        """;
}
