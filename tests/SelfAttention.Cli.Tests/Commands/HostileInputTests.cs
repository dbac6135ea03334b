using SelfAttention.Cli.Tests.Helpers;

namespace SelfAttention.Cli.Tests.Commands;

/// <summary>
/// Whatever the user types, every command answers with exit 2, exactly one bounded line on stderr and no stack
/// trace, writes nothing and leaves its inputs as they were: every numeric option with 0, negatives, -0, values that
/// round to 0 or ∞ in float32, NaN, infinities and numbers beyond int; control characters and huge values echoed back.
/// </summary>
public class HostileInputTests
{
    public static TheoryData<string, string> RunOptionValues()
    {
        var data = new TheoryData<string, string>();
        foreach (string scale in new[] { "0", "-1", "-0", "0.0", "1e-46", "-1e-46", "NaN", "nan", "inf", "Infinity", "-Infinity", "1e39", "1e999", "", "0x10", "1,5" })
        {
            data.Add("--scale", scale);
        }

        foreach (string option in new[] { "--heads", "--kv-heads" })
        {
            foreach (string count in new[] { "0", "-1", "-0", "99999999999", "2147483648", "1e3", "NaN", "1.5", "" })
            {
                data.Add(option, count);
            }
        }

        foreach (string threads in new[] { "0", "-2", "-0", "1025", "2147483647", "99999999999", "NaN", "" })
        {
            data.Add("--threads", threads);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(RunOptionValues))]
    public void RunRefusesEveryBadNumber(string option, string value)
    {
        using var folder = Inputs(out string[] inputArgs);
        var before = NpyFiles.Snapshot(folder.Path);
        string[] heads = option == "--heads" ? [] : ["--heads", "2"];
        var result = Tool.Run(["run", .. inputArgs, .. heads, option, value, "--out", folder.File("o.npy"), "--weights", folder.File("w.npy")]);
        Tool.AssertUsageError(result, option);
        Assert.Equal(before, NpyFiles.Snapshot(folder.Path));
    }

    [Theory]
    [InlineData("--scale", "0")]
    [InlineData("--scale", "-1")]
    [InlineData("--scale", "-0")]
    [InlineData("--scale", "1e-46")]
    [InlineData("--scale", "NaN")]
    [InlineData("--scale", "1e39")]
    [InlineData("--threads", "0")]
    [InlineData("--heads", "0")]
    [InlineData("--heads", "257")]
    [InlineData("--heads", "99999999999")]
    [InlineData("--dim", "0")]
    [InlineData("--dim", "1025")]
    [InlineData("--dim", "2147483647")]
    [InlineData("--seed", "-1")]
    [InlineData("--seed", "99999999999")]
    public void HeatmapSentenceRefusesEveryBadNumber(string option, string value)
    {
        using var folder = new TempFolder();
        var result = Tool.Run("heatmap", "--sentence", "a b c", option, value, "--out", folder.File("h.svg"));
        Tool.AssertUsageError(result, option);
        Assert.Empty(folder.Files());
    }

    [Theory]
    [InlineData("--scale", "0")]
    [InlineData("--batch-index", "-1")]
    [InlineData("--batch-index", "1")]
    [InlineData("--batch-index", "99999999999")]
    [InlineData("--kv-heads", "0")]
    [InlineData("--kv-heads", "3")]
    public void HeatmapArraysRefuseEveryBadNumber(string option, string value)
    {
        using var folder = Inputs(out string[] inputArgs);
        var before = NpyFiles.Snapshot(folder.Path);
        var result = Tool.Run(["heatmap", .. inputArgs[..4], "--heads", "2", option, value, "--out", folder.File("h.svg")]);
        Tool.AssertUsageError(result, option);
        Assert.Equal(before, NpyFiles.Snapshot(folder.Path));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("5")]
    [InlineData("-1")]
    [InlineData("99999999999")]
    public void ExampleNumbersOutOfRangeAreRefused(string value)
    {
        using var folder = new TempFolder();
        Tool.AssertUsageError(Tool.Run("heatmap", "--example", value, "--out", folder.File("h.svg")), "--example");
        Tool.AssertUsageError(Tool.Run("walkthrough", "--example", value), "--example");
        Assert.Empty(folder.Files());
    }

    [Fact]
    public void AHeatmapTooLargeToDrawIsRefusedBeforeComputing()
    {
        using var folder = new TempFolder();
        string sentence = string.Join(' ', Enumerable.Range(0, 3000).Select(k => $"w{k}"));
        var result = Tool.Run("heatmap", "--sentence", sentence, "--heads", "4", "--out", folder.File("h.svg"));
        Tool.AssertUsageError(result, "too large to draw");
        Assert.Empty(folder.Files());
    }

    [Fact]
    public void ANewlineInAFileNameIsEscapedOnOneLine()
    {
        using var folder = Inputs(out string[] inputArgs);
        string name = folder.File("evil\nname.npy");
        var result = Tool.Run("run", "--query", name, "--key", inputArgs[3], "--value", inputArgs[5], "--heads", "2");
        Tool.AssertUsageError(result, "no such file", "evil\\nname.npy");
    }

    [Fact]
    public void AMalformedFileWithControlCharactersInItsNameIsOneLine()
    {
        using var folder = Inputs(out string[] inputArgs);
        string name = folder.File("bad\r\n\u2028\u202e\tq.npy");
        File.WriteAllText(name, "not a numpy file at all");
        var result = Tool.Run("run", "--query", name, "--key", inputArgs[3], "--value", inputArgs[5], "--heads", "2");
        Tool.AssertUsageError(result, "bad\\r\\n\\u2028\\u202e\\tq.npy", "magic");
    }

    [Theory]
    [InlineData("--key")]
    [InlineData("--out")]
    [InlineData("--normalization")]
    [InlineData("--scale")]
    [InlineData("--no-such-option-")]
    public void AHugeValueIsEchoedShortened(string option)
    {
        using var folder = Inputs(out string[] inputArgs);
        string huge = new string('k', 60_000);
        string[] args = option switch
        {
            "--key" => ["run", "--query", inputArgs[1], "--key", folder.File(huge), "--value", inputArgs[5], "--heads", "2"],
            "--out" => ["run", .. inputArgs, "--heads", "2", "--out", Path.Combine(folder.Path, huge, "o.npy")],
            "--no-such-option-" => ["run", .. inputArgs, "--heads", "2", "--no-such-option-" + huge],
            _ => ["run", .. inputArgs, "--heads", "2", option, huge],
        };
        var before = NpyFiles.Snapshot(folder.Path);
        var result = Tool.Run(args);
        Tool.AssertFailure(result, option == "--out" ? 1 : 2, "…");
        Assert.True(result.Error.Length < 600, $"{result.Error.Length} characters");
        Assert.Equal(before, NpyFiles.Snapshot(folder.Path));
    }

    [Fact]
    public void AnUnknownCommandIsEchoedEscapedAndShortened()
    {
        var result = Tool.Run("x\n" + new string('y', 10_000));
        Tool.AssertUsageError(result, "unknown command", "x\\nyyy", "…");
    }

    // q: [3, 8], k, v: [5, 8] in a fresh folder; the arguments --query q --key k --value v.
    private static TempFolder Inputs(out string[] args)
    {
        var folder = new TempFolder();
        NpyFiles.WriteRandom(folder.File("q.npy"), 1, 3, 8);
        NpyFiles.WriteRandom(folder.File("k.npy"), 2, 5, 8);
        NpyFiles.WriteRandom(folder.File("v.npy"), 3, 5, 8);
        args = ["--query", folder.File("q.npy"), "--key", folder.File("k.npy"), "--value", folder.File("v.npy")];
        return folder;
    }
}
