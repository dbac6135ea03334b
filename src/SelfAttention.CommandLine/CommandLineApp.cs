using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Text;
using System.Text.RegularExpressions;

namespace SelfAttention.CommandLine;

/// <summary>
/// One command-line program on System.CommandLine with this project's rules, the same for the tool and the
/// benchmarks exe:
/// <list type="bullet">
/// <item>a bad command line is one bounded line on stderr and exit code 2 (<see cref="ExitCodes.Usage"/>), never a
/// help page or a stack trace: an unknown option (with the closest known one, when one is close), an unknown command, an
/// option given twice, an option whose value is missing or is another option, a value out of range;</item>
/// <item><c>--help</c> (also <c>-h</c> and <c>help COMMAND</c>) is generated, and ends with the command's exit codes
/// and examples (<see cref="DocumentedCommand"/>); no command at all prints the top-level help and exits 2;</item>
/// <item>tab completion through System.CommandLine's <c>[suggest]</c> directive, which the scripts of
/// <see cref="CompletionCommand"/> call;</item>
/// <item>no response files: an argument that starts with <c>@</c> is a value like any other, never a file to read.</item>
/// </list>
/// </summary>
public sealed class CommandLineApp
{
    private readonly string _version;
    private bool _sealed;

    /// <summary>Creates the program.</summary>
    /// <param name="name">The command name as users type it (<c>selfattention</c>), shown in usage lines and messages.</param>
    /// <param name="description">What the program does, at the top of <c>--help</c>.</param>
    /// <param name="version">What <c>--version</c> prints.</param>
    public CommandLineApp(string name, string description, string version)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(version);
        Name = name;
        _version = version;
        Root = new RootCommand(description) { HelpName = name };
    }

    /// <summary>The command name as users type it.</summary>
    public string Name { get; }

    /// <summary>The root of the command tree; add commands with <see cref="Add"/>.</summary>
    public RootCommand Root { get; }

    /// <summary>Paragraphs of the top-level help after the command list, or <see langword="null"/>.</summary>
    public string? Notes { get; set; }

    /// <summary>The "Exit codes:" paragraph of the top-level help.</summary>
    public string ExitCodeHelp { get; set; } = "0 success; 2 bad command line.";

    /// <summary>Example command lines of the top-level help.</summary>
    public IList<string> Examples { get; } = [];

    /// <summary>Adds <paramref name="command"/> under the root (before the first <see cref="Run"/>).</summary>
    /// <param name="command">The command, with its options and action.</param>
    public void Add(DocumentedCommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (_sealed)
        {
            throw new InvalidOperationException("Commands are added before the first Run.");
        }

        Root.Add(command);
    }

    /// <summary>Parses <paramref name="args"/> and runs the command they select; returns the exit code.</summary>
    /// <param name="args">The arguments after the program name.</param>
    /// <param name="output">Where help, completions and the command's output go.</param>
    /// <param name="error">Where the one line of a usage error goes.</param>
    /// <returns>The command's exit code, or <see cref="ExitCodes.Usage"/> for a bad command line. An exception from a
    /// command's action propagates to the caller.</returns>
    public int Run(IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        Seal();

        ParseResult result = Root.Parse(RewriteHelpCommand(args), new ParserConfiguration { ResponseFileTokenReplacer = null });
        var invocation = new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null };
        if (result.Errors.Count > 0 && result.Action is not CommandLineAction { ClearsParseErrors: true })
        {
            CliText.WriteLine(error, DescribeError(result));
            return ExitCodes.Usage;
        }

        if (result.Action is not CommandLineAction { ClearsParseErrors: true } && OptionTakenAsArgument(result) is { } stray)
        {
            CliText.WriteLine(error, $"{CommandPath(result.CommandResult)[(Name.Length + 1)..]}: unknown option {CliText.Echo(stray)}{Suggestion(stray, result.CommandResult)}; "
                                     + $"see '{CommandPath(result.CommandResult)} --help' (an argument that starts with '-' goes after --).");
            return ExitCodes.Usage;
        }

        return result.Invoke(invocation);
    }

    // A command with a variadic argument (embed's sentences) takes an unknown option as one of its values; before a
    // "--" such a token is a mistyped option, not an argument.
    private static string? OptionTakenAsArgument(ParseResult result)
    {
        foreach (Token token in result.Tokens)
        {
            if (token.Type == TokenType.DoubleDash)
            {
                return null;
            }

            if (token.Type == TokenType.Argument && LooksLikeOption(token.Value) && result.CommandResult.Command.Arguments.Count > 0
                && result.CommandResult.Children.OfType<ArgumentResult>().Any(a => a.Tokens.Contains(token)))
            {
                return token.Value;
            }
        }

        return null;
    }

    // "help" and "help COMMAND …" read as "--help" and "COMMAND --help".
    private static string[] RewriteHelpCommand(IReadOnlyList<string> args) =>
        args.Count > 0 && args[0] == "help"
            ? args.Count == 1 ? ["--help"] : [args[1], "--help"]
            : [.. args];

    // Once, before the first parse: the help, version and root actions, and the validators every option gets.
    private void Seal()
    {
        if (_sealed)
        {
            return;
        }

        _sealed = true;
        foreach (Option option in Root.Options)
        {
            if (option is HelpOption help)
            {
                help.Action = new HelpWithExamplesAction(this);

                // -h, --help and -?; the DOS spellings /h and /? would only clutter Tab completion on Unix shells.
                help.Aliases.Remove("/h");
                help.Aliases.Remove("/?");
            }
            else if (option is VersionOption versionOption)
            {
                versionOption.Action = new PrintAction(_version);
            }
        }

        // No command: the top-level help, and exit 2, since nothing that was asked for ran.
        Root.SetAction(parseResult =>
        {
            new HelpWithExamplesAction(this).Invoke(parseResult);
            return ExitCodes.Usage;
        });
        var optionNames = new HashSet<string>(StringComparer.Ordinal);
        Visit(Root, command =>
        {
            foreach (Option option in command.Options)
            {
                optionNames.Add(option.Name);
                foreach (string alias in option.Aliases)
                {
                    optionNames.Add(alias);
                }
            }
        });
        Visit(Root, command =>
        {
            foreach (Option option in command.Options)
            {
                if (option is not (HelpOption or VersionOption))
                {
                    AddRules(option, optionNames);
                }
            }
        });
    }

    // Each option at most once; an option that takes a value refuses another option's name as that value, which is
    // nearly always a forgotten value ("--query --causal") rather than a file called "--causal".
    private static void AddRules(Option option, HashSet<string> optionNames)
    {
        bool takesValue = option.Arity.MaximumNumberOfValues > 0 && option.ValueType != typeof(bool);
        option.Validators.Add(result =>
        {
            string name = result.IdentifierToken?.Value ?? option.Name;
            if (result.IdentifierTokenCount > 1)
            {
                result.AddError($"{name} is given more than once.");
            }
            else if (takesValue && result.Tokens.Count > 0 && optionNames.Contains(result.Tokens[0].Value))
            {
                result.AddError($"{name} needs a value, got the option {result.Tokens[0].Value}.");
            }
        });
    }

    private static void Visit(Command command, Action<Command> action)
    {
        action(command);
        foreach (Command subcommand in command.Subcommands)
        {
            Visit(subcommand, action);
        }
    }

    // One line that says what is wrong and where to look: the command's name first, its help last.
    private string DescribeError(ParseResult result)
    {
        Command command = result.CommandResult.Command;
        string path = CommandPath(result.CommandResult);
        string prefix = command == Root ? Name : path[(Name.Length + 1)..];
        string message;
        if (result.UnmatchedTokens.Count > 0)
        {
            string token = result.UnmatchedTokens[0];
            message = LooksLikeOption(token) ? $"unknown option {CliText.Echo(token)}{Suggestion(token, result.CommandResult)}"
                    : command == Root ? $"unknown command '{CliText.Echo(token)}'; commands: {string.Join(", ", Root.Subcommands.Where(c => !c.Hidden).Select(c => c.Name))}"
                    : $"unexpected argument '{CliText.Echo(token)}'";
        }
        else
        {
            // A wrong value or a repeated option before a missing one: the missing option is often the consequence.
            string[] missing = [.. result.Errors.Select(e => MissingOption(e.Message)).OfType<string>()];
            ParseError? first = result.Errors.FirstOrDefault(e => MissingOption(e.Message) is null);
            message = first is not null ? Rephrase(Collapse(first.Message))
                    : $"{string.Join(", ", missing)} {(missing.Length == 1 ? "is" : "are")} required";
        }

        return $"{prefix}: {message.TrimEnd('.')}; see '{path} --help'.";
    }

    private string CommandPath(CommandResult result)
    {
        var names = new List<string>();
        for (SymbolResult? r = result; r is not null; r = r.Parent)
        {
            if (r is CommandResult c)
            {
                names.Add(c.Command == Root ? Name : c.Command.Name);
            }
        }

        names.Reverse();
        return string.Join(' ', names);
    }

    // "; did you mean --normalization?" when a known option of the command (or an inherited one) is within two edits.
    private static string Suggestion(string token, CommandResult result)
    {
        string typed = token.Split('=', 2)[0];
        string? best = null;
        int bestDistance = 3;
        for (SymbolResult? r = result; r is not null; r = r.Parent)
        {
            if (r is not CommandResult c)
            {
                continue;
            }

            foreach (Option option in c.Command.Options)
            {
                if (option.Hidden || (c != result && !option.Recursive))
                {
                    continue;
                }

                int distance = EditDistance(typed, option.Name);
                if (distance < bestDistance)
                {
                    (best, bestDistance) = (option.Name, distance);
                }
            }
        }

        return best is null ? "" : $"; did you mean {best}?";
    }

    private static int EditDistance(string a, string b)
    {
        if (Math.Abs(a.Length - b.Length) > 2 || a.Length > 64 || b.Length > 64)
        {
            return int.MaxValue;
        }

        Span<int> previous = stackalloc int[b.Length + 1], current = stackalloc int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                current[j] = Math.Min(substitution, Math.Min(previous[j], current[j - 1]) + 1);
            }

            current.CopyTo(previous);
        }

        return previous[b.Length];
    }

    // A negative number such as -0.5 is a value, not an option.
    private static bool LooksLikeOption(string token) =>
        token.Length > 1 && token[0] == '-' && !char.IsDigit(token[1]) && token[1] != '.';

    // System.CommandLine's own messages in this project's words ("--out needs a value").
    private static string Rephrase(string message)
    {
        Match missing = Regex.Match(message, @"^Required argument missing for option: '([^']+)'\.?$");
        if (missing.Success)
        {
            return $"{missing.Groups[1].Value} needs a value";
        }

        Match repeated = Regex.Match(message, @"^Option '([^']+)' expects a single argument but [0-9]+ were provided\.?$");
        return repeated.Success ? $"{repeated.Groups[1].Value} is given more than once" : message;
    }

    // The option a "required" error names, or null for another error.
    private static string? MissingOption(string message)
    {
        Match required = Regex.Match(message, @"^Option '([^']+)' is required\.?$");
        return required.Success ? required.Groups[1].Value : null;
    }

    // System.CommandLine's messages may span lines (the allowed values, one per line); a usage error is one line.
    private static string Collapse(string message)
    {
        var sb = new StringBuilder(message.Length);
        bool space = false;
        foreach (char c in message)
        {
            if (char.IsWhiteSpace(c))
            {
                space = sb.Length > 0;
                continue;
            }

            if (space)
            {
                sb.Append(' ');
                space = false;
            }

            sb.Append(c);
        }

        return sb.ToString();
    }

    // --version: the version alone, on one line.
    private sealed class PrintAction(string text) : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parseResult)
        {
            parseResult.InvocationConfiguration.Output.WriteLine(text);
            return ExitCodes.Success;
        }
    }
}
