using SelfAttention.Cli.Tests.Helpers;

namespace SelfAttention.Cli.Tests.Commands;

/// <summary>The top level: help, unknown commands, and --help on every command.</summary>
public class GeneralTests
{
    public static TheoryData<string> CommandNames => new(CliApp.CommandNames);

    [Fact]
    public void NoArgumentsPrintsHelpAndExitsTwo()
    {
        var result = Tool.Run();
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("Usage:\n  selfattention [command] [options]", result.Output);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    [InlineData("help")]
    public void HelpListsEveryCommandAndTheExitCodes(string flag)
    {
        var result = Tool.Run(flag);
        Assert.Equal(0, result.ExitCode);
        foreach (string command in CliApp.CommandNames)
        {
            Assert.Contains(command, result.Output);
        }

        Assert.Contains("Exit codes", result.Output);
    }

    [Fact]
    public void UnknownCommandIsAUsageError() =>
        Tool.AssertUsageError(Tool.Run("frobnicate"), "unknown command 'frobnicate'", "walkthrough");

    [Fact]
    public void VersionPrintsAVersion()
    {
        var result = Tool.Run("--version");
        Assert.Equal(0, result.ExitCode);
        Assert.Matches(@"^\d+\.\d+\.\d+\s*$", result.Output);
    }

    [Theory]
    [MemberData(nameof(CommandNames))]
    public void EveryCommandHasHelpWithAnExampleAndExitCodes(string name)
    {
        foreach (string[] args in new[] { new[] { name, "--help" }, new[] { name, "-h" }, new[] { "help", name } })
        {
            var result = Tool.Run(args);
            Assert.True(result.ExitCode == 0, result.ToString());
            Assert.Contains($"Usage:\n  selfattention {name} ", result.Output);
            Assert.Contains("Exit codes", result.Output);
            Assert.Contains($"selfattention {name} ", result.Output[result.Output.IndexOf("Example", StringComparison.Ordinal)..]);
        }
    }

    [Theory]
    [MemberData(nameof(CommandNames))]
    public void EveryCommandRejectsAnUnknownOption(string name) =>
        Tool.AssertUsageError(Tool.Run(name, "--no-such-option", "1"), "--no-such-option");
}
