using System.Diagnostics;
using SelfAttention.Cli.Tests.Helpers;

namespace SelfAttention.Cli.Tests.CommandLine;

/// <summary>
/// The rules of the shared command-line layer (<see cref="CommandLineApp"/>), through the tool: repeated options,
/// forgotten values, typos, no response files, help forms, one default for <c>--threads</c>, and Tab completion.
/// </summary>
public class CommandLineAppTests
{
    [Theory]
    [InlineData("walkthrough", "--json", "--json")]
    [InlineData("walkthrough", "--example", "1", "--example", "2")]
    [InlineData("heatmap", "--example", "1", "--causal", "--causal")]
    [InlineData("heatmap", "--example", "1", "--out=a.svg", "--out", "b.svg")]
    public void AnOptionGivenTwiceIsAUsageError(params string[] args) =>
        Tool.AssertUsageError(Tool.Run(args), "is given more than once");

    [Fact]
    public void AnOptionInPlaceOfAValueIsAUsageError() =>
        Tool.AssertUsageError(Tool.Run("run", "--query", "--causal", "--key", "k.npy", "--value", "v.npy", "--heads", "1"),
                              "run:", "--query needs a value, got the option --causal");

    [Fact]
    public void AValueAtTheEndIsMissing() =>
        Tool.AssertUsageError(Tool.Run("walkthrough", "--example"), "walkthrough:", "--example needs a value");

    [Fact]
    public void AMisspeltOptionGetsTheClosestOne() =>
        Tool.AssertUsageError(Tool.Run("run", "--qeury", "q.npy"), "unknown option --qeury", "did you mean --query?", "see 'selfattention run --help'");

    [Fact]
    public void EveryMissingRequiredOptionIsNamedAtOnce() =>
        Tool.AssertUsageError(Tool.Run("run", "--heads", "2"), "run:", "--query, --key, --value are required");

    [Fact]
    public void AWrongValueIsReportedBeforeAMissingOption() =>
        Tool.AssertUsageError(Tool.Run("run", "--threads", "0"), "--threads expects -1 (every core) or an integer from 1 to 1024, got '0'");

    [Fact]
    public void AChoiceNamesItsValues() =>
        Tool.AssertUsageError(Tool.Run("heatmap", "--example", "1", "--values", "maybe"), "heatmap:", "--values expects on or off, got 'maybe'");

    [Fact]
    public void AnArgumentStartingWithAtIsAValueNotAResponseFile()
    {
        using var folder = new TempFolder();
        string responseFile = folder.File("args.rsp");
        File.WriteAllText(responseFile, "1");
        Tool.AssertUsageError(Tool.Run("walkthrough", "--example", "@" + responseFile), "--example expects an integer from 1 to 4", "@");
    }

    [Fact]
    public void HelpCommandAndHelpOptionPrintTheSame()
    {
        var viaCommand = Tool.Run("help", "heatmap");
        var viaOption = Tool.Run("heatmap", "--help");
        Assert.Equal(0, viaCommand.ExitCode);
        Assert.Equal(viaOption.Output, viaCommand.Output);
        Assert.Equal(viaOption.Output, Tool.Run("heatmap", "-h").Output);
    }

    [Fact]
    public void HelpIsTheSameWidthEverywhere()
    {
        // Generated at a fixed width, not the terminal's: no line of any help is wider than 110 characters.
        foreach (string[] args in CliApp.CommandNames.Select(n => new[] { n, "--help" }).Append(["--help"]))
        {
            var result = Tool.Run(args);
            Assert.All(result.Output.Split('\n'), line => Assert.True(line.Length <= 110, $"{string.Join(' ', args)}: {line}"));
        }
    }

    [Fact]
    public void ThreadsDefaultsToTheCallingThreadInTheToolAndTheBenchmarks()
    {
        Assert.Equal(1, CommonOptions.DefaultThreads);
        string help = Tool.Run("run", "--help").Output;
        string threads = help[help.IndexOf("  --threads", StringComparison.Ordinal)..];
        Assert.Contains("[default: 1]", threads[..threads.IndexOf("\n  -", 2, StringComparison.Ordinal)]);
    }

    [Fact]
    public void TheSuggestDirectiveCompletesCommandsOptionsAndValues()
    {
        Assert.Equal(["completion", "embed", "heatmap", "run", "walkthrough"], Lines(Tool.Run("[suggest:0]", "")).Where(l => !l.StartsWith('-')).Order(StringComparer.Ordinal));
        Assert.Equal(["--normalization"], Lines(Tool.Run("[suggest:10]", "run --norm")));
        Assert.Equal(["softmax", "sum"], Lines(Tool.Run("[suggest:20]", "run --normalization ")));
        Assert.Equal(["bash", "zsh"], Lines(Tool.Run("[suggest:11]", "completion ")).Where(l => !l.StartsWith('-')));
        Assert.Equal(["1", "2", "3", "4"], Lines(Tool.Run("[suggest:22]", "walkthrough --example ")));
    }

    [Theory]
    [InlineData("bash")]
    [InlineData("zsh")]
    public void CompletionPrintsAScriptForTheShell(string shell)
    {
        var result = Tool.Run("completion", shell);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("complete -o default -F _selfattention_complete selfattention", result.Output);
        Assert.Contains("[suggest:", result.Output);
    }

    [Fact]
    public void CompletionRefusesAnUnknownShell() =>
        Tool.AssertUsageError(Tool.Run("completion", "fish"), "completion:", "bash or zsh, got 'fish'");

    // The bash script, loaded into a real bash and called as bash calls it on Tab, against the built tool.
    [Theory]
    [InlineData("selfattention run --norm", "--normalization")]
    [InlineData("selfattention run --normalization s", "softmax sum")]
    [InlineData("selfattention heat", "heatmap")]
    [InlineData("selfattention walkthrough --js", "--json")]
    public void TheBashScriptCompletesInBash(string line, string expected)
    {
        using var folder = new TempFolder();
        string shim = folder.File("selfattention");
        string host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        File.WriteAllText(shim, $"#!/bin/sh\nexec '{host}' '{Path.Combine(AppContext.BaseDirectory, "SelfAttention.Cli.dll")}' \"$@\"\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(shim, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        string script = folder.File("completion.bash");
        File.WriteAllText(script, Tool.Run("completion", "bash").Output);

        string[] words = line.Split(' ');
        string driver = $$"""
            source '{{script}}'
            COMP_LINE='{{shim}}{{line["selfattention".Length..]}}'
            COMP_POINT=${#COMP_LINE}
            COMP_WORDS=('{{shim}}' {{string.Join(' ', words.Skip(1).Select(w => $"'{w}'"))}})
            COMP_CWORD={{words.Length - 1}}
            _selfattention_complete
            echo "${COMPREPLY[*]}"
            """;
        var start = new ProcessStartInfo("bash") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var bash = Process.Start(start)!;
        bash.StandardInput.Write(driver);
        bash.StandardInput.Close();
        string output = bash.StandardOutput.ReadToEnd();
        Assert.True(bash.WaitForExit(TimeSpan.FromMinutes(1)), "bash did not finish");
        Assert.Equal(expected, output.Trim());
    }

    [Fact]
    public void TheToolCarriesNoBenchmarkCode()
    {
        // The shipped tool references the library and the command-line layer, never the benchmark harness.
        var references = typeof(CliApp).Assembly.GetReferencedAssemblies().Select(a => a.Name).ToArray();
        Assert.DoesNotContain("SelfAttention.Comparison", references);
        Assert.Contains("SelfAttention.CommandLine", references);
    }

    private static string[] Lines(CliResult result)
    {
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }
}
