using System.CommandLine;

namespace SelfAttention.CommandLine;

/// <summary>
/// <c>completion bash|zsh</c>: prints a shell script that completes the program's commands, options and the
/// values they know (shapes, implementations, <c>softmax|sum</c>, …) on Tab. The script asks the program itself,
/// through System.CommandLine's <c>[suggest:POSITION] "LINE"</c> directive, so it never goes stale; where the
/// program suggests nothing (a file name) the shell completes file names.
/// </summary>
public static class CompletionCommand
{
    /// <summary>The shells a script is printed for.</summary>
    public static IReadOnlyList<string> Shells { get; } = ["bash", "zsh"];

    /// <summary>Creates the command for <paramref name="program"/>.</summary>
    /// <param name="program">The program name the shell completes (<c>selfattention</c>).</param>
    /// <returns>The command, with its action.</returns>
    public static DocumentedCommand Create(string program)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(program);
        var shell = new Argument<string>("shell") { Description = "bash or zsh" };
        shell.Validators.Add(result =>
        {
            if (result.Tokens.Count > 0 && !Shells.Contains(result.Tokens[0].Value))
            {
                result.AddError($"the shell is {CommonOptions.Alternatives(Shells)}, got '{CliText.Echo(result.Tokens[0].Value)}'.");
            }
        });
        shell.CompletionSources.Add([.. Shells]);
        var command = new DocumentedCommand("completion", "print a Tab-completion script for bash or zsh")
        {
            Notes = $"""
                Load it in the current shell, or install it for every new one:
                  source <({program} completion bash)
                  {program} completion bash > ~/.local/share/bash-completion/completions/{program}
                  {program} completion zsh > "${"{fpath[1]}"}/_{program}"    (zsh, through bashcompinit)
                """,
        };
        command.Add(shell);
        command.Examples.Add($"source <({program} completion bash)");
        command.SetAction(parseResult =>
        {
            parseResult.InvocationConfiguration.Output.Write(Script(program, parseResult.GetRequiredValue(shell)));
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>The completion script of <paramref name="program"/> for <paramref name="shell"/> (one of <see cref="Shells"/>).</summary>
    /// <param name="program">The program name.</param>
    /// <param name="shell"><c>bash</c> or <c>zsh</c>.</param>
    /// <returns>The script's text.</returns>
    public static string Script(string program, string shell)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(program);
        string function = "_" + new string([.. program.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_')]) + "_complete";

        // The line up to the cursor, without the program's own word (which is run: the path the user typed), is what
        // the program parses; ${#line} is the cursor's position in it. Written for bash and for zsh's bashcompinit
        // alike (no 0-based array index, $COMP_POINT spelt with its $). Suggestions come one per line; COMPREPLY takes them as they are (they are already
        // filtered by the word under the cursor), and -o default falls back to file names when there are none.
        string bash = $$"""
            {{function}}() {
                local line="${COMP_LINE:0:$COMP_POINT}"
                [[ "$line" == *[[:space:]]* ]] || return 0
                local program="${line%%[[:space:]]*}"
                line="${line#*[[:space:]]}"
                local IFS=$'\n'
                COMPREPLY=($("$program" "[suggest:${#line}]" "$line" 2>/dev/null))
            }
            complete -o default -F {{function}} {{program}}

            """;
        return shell switch
        {
            "bash" => $"# bash completion for {program}: source <({program} completion bash)\n" + bash,
            "zsh" => $"#compdef {program}\n# zsh completion for {program}, through bash's: source <({program} completion zsh)\n"
                     + "(( $+functions[compdef] )) || { autoload -U +X compinit && compinit; }\n"
                     + "autoload -U +X bashcompinit && bashcompinit\n" + bash,
            _ => throw new ArgumentOutOfRangeException(nameof(shell), shell, $"Expected one of {string.Join(", ", Shells)}."),
        };
    }
}
