using System.Diagnostics;
using SelfAttention.Cli.Tests.Helpers;

namespace SelfAttention.Cli.Tests.Commands;

/// <summary>
/// No lost data: an output that names an input (by identity: the same string, <c>./</c>, a symbolic or a hard link)
/// or another output is exit 2 with every file untouched; outputs are written all or none, their paths checked
/// before anything is computed, and failures name the user's path, never the hidden temporary file.
/// </summary>
public class OutputSafetyTests
{
    public static TheoryData<string, string, string> OutputsNamingAnInput()
    {
        var data = new TheoryData<string, string, string>();
        foreach (string output in new[] { "--out", "--weights" })
        {
            foreach (string input in new[] { "q", "k", "v" })
            {
                foreach (string spelling in new[] { "same", "dot", "parent", "relative", "symlink", "symlink-chain", "hardlink" })
                {
                    data.Add(output, input, spelling);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(OutputsNamingAnInput))]
    public void AnOutputThatIsAnInputIsRefusedAndNothingChanges(string outputOption, string input, string spelling)
    {
        using var folder = Inputs();
        string target = folder.File($"{input}.npy");
        string path = Spell(folder, target, spelling);
        var before = NpyFiles.Snapshot(folder.Path);
        string other = outputOption == "--out" ? "--weights" : "--out";
        var result = Tool.Run(["run", .. InputArgs(folder), "--heads", "2", outputOption, path, other, folder.File("other.npy")]);
        Tool.AssertUsageError(result, outputOption, "input", $"--{(input == "q" ? "query" : input == "k" ? "key" : "value")}");
        Assert.Equal("", result.Output);
        Assert.Equal(before, NpyFiles.Snapshot(folder.Path));
    }

    [Theory]
    [InlineData("same")]
    [InlineData("dot")]
    [InlineData("symlink")]
    [InlineData("hardlink")]
    public void HeatmapOutThatIsAnInputIsRefused(string spelling)
    {
        using var folder = Inputs();
        string path = Spell(folder, folder.File("k.npy"), spelling);
        var before = NpyFiles.Snapshot(folder.Path);
        var result = Tool.Run("heatmap", "--query", folder.File("q.npy"), "--key", folder.File("k.npy"), "--heads", "2", "--out", path);
        Tool.AssertUsageError(result, "--out", "--key");
        Assert.Equal(before, NpyFiles.Snapshot(folder.Path));
    }

    [Theory]
    [InlineData("same")]
    [InlineData("dot")]
    [InlineData("symlink")]
    public void OutAndWeightsNamingOneFileAreRefused(string spelling)
    {
        using var folder = Inputs();
        File.WriteAllText(folder.File("o.npy"), "old output");
        string weights = Spell(folder, folder.File("o.npy"), spelling);
        var before = NpyFiles.Snapshot(folder.Path);
        var result = Tool.Run(["run", .. InputArgs(folder), "--heads", "2", "--out", folder.File("o.npy"), "--weights", weights]);
        Tool.AssertUsageError(result, "same file");
        Assert.Equal(before, NpyFiles.Snapshot(folder.Path));
    }

    [Fact]
    public void OutAndWeightsNamingOneNewFileTwoWaysAreRefused()
    {
        using var folder = Inputs();
        var result = Tool.Run(["run", .. InputArgs(folder), "--heads", "2", "--out", folder.File("o.npy"), "--weights", Path.Combine(folder.Path, ".", "o.npy")]);
        Tool.AssertUsageError(result, "same file");
        Assert.Equal(["k.npy", "q.npy", "v.npy"], folder.Files());
    }

    [Theory]
    [InlineData("missing-folder")]
    [InlineData("a-folder")]
    [InlineData("under-a-file")]
    public void AGoodOutAndABadWeightsLeaveNothingBehind(string problem)
    {
        using var folder = Inputs();
        File.WriteAllText(folder.File("o.npy"), "the previous output, which must survive");
        Directory.CreateDirectory(folder.File("dir.npy"));
        string weights = problem switch
        {
            "missing-folder" => Path.Combine(folder.Path, "no-such-folder", "w.npy"),
            "a-folder" => folder.File("dir.npy"),
            _ => Path.Combine(folder.File("k.npy"), "w.npy"),
        };
        var before = NpyFiles.Snapshot(folder.Path);
        var result = Tool.Run(["run", .. InputArgs(folder), "--heads", "2", "--out", folder.File("o.npy"), "--weights", weights]);
        Tool.AssertFailure(result, 1, "--weights", weights);
        Assert.DoesNotContain(".tmp", result.Error, StringComparison.Ordinal);
        Assert.Equal("", result.Output); // refused before computing: not even the summary line
        Assert.Equal(before, NpyFiles.Snapshot(folder.Path));
        Assert.Empty(Directory.GetFileSystemEntries(folder.File("dir.npy")));
    }

    [Fact]
    public void ABadInputAfterAGoodOutLeavesNothingBehind()
    {
        using var folder = Inputs();
        File.WriteAllText(folder.File("v.npy"), "broken");
        var before = NpyFiles.Snapshot(folder.Path);
        var result = Tool.Run(["run", .. InputArgs(folder), "--heads", "2", "--out", folder.File("o.npy"), "--weights", folder.File("w.npy")]);
        Tool.AssertUsageError(result, "v.npy");
        Assert.Equal(before, NpyFiles.Snapshot(folder.Path));
    }

    [Fact]
    public void HeatmapToAMissingFolderNamesTheUsersPath()
    {
        using var folder = new TempFolder();
        string path = Path.Combine(folder.Path, "no-such-folder", "h.svg");
        var result = Tool.Run("heatmap", "--example", "1", "--out", path);
        Tool.AssertFailure(result, 1, path, "folder does not exist");
        Assert.DoesNotContain(".tmp", result.Error, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(folder.Path));
    }

    [Fact]
    public void SuccessReplacesBothOutputsAndLeavesNoTemporaryFile()
    {
        using var folder = Inputs();
        File.WriteAllText(folder.File("o.npy"), "old");
        var result = Tool.Run(["run", .. InputArgs(folder), "--heads", "2", "--out", folder.File("o.npy"), "--weights", folder.File("w.npy")]);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(["k.npy", "o.npy", "q.npy", "v.npy", "w.npy"], folder.Files());
        Assert.Equal(new[] { 3, 16 }, SelfAttention.IO.Npy.ReadFile(folder.File("o.npy")).Shape);
        Assert.Equal(new[] { 2, 3, 5 }, SelfAttention.IO.Npy.ReadFile(folder.File("w.npy")).Shape);
    }

    [Fact]
    public void WritingThroughASymbolicLinkKeepsTheLink()
    {
        using var folder = Inputs();
        File.WriteAllText(folder.File("real.npy"), "old");
        File.CreateSymbolicLink(folder.File("link.npy"), folder.File("real.npy"));
        var result = Tool.Run(["run", .. InputArgs(folder), "--heads", "2", "--out", folder.File("link.npy")]);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.NotNull(new FileInfo(folder.File("link.npy")).LinkTarget);
        Assert.Equal(new[] { 3, 16 }, SelfAttention.IO.Npy.ReadFile(folder.File("real.npy")).Shape);
    }

    // 32768 × 2 with 2 heads: the weights would be 2^31 values, past the largest array, but none were asked for.
    [Fact]
    public void RunDoesNotRefuseAnInputBecauseOfWeightsNobodyAskedFor()
    {
        using var folder = new TempFolder();
        NpyFiles.WriteRandom(folder.File("x.npy"), 1, 32768, 2);
        string x = folder.File("x.npy");
        var result = Tool.Run("run", "--query", x, "--key", x, "--value", x, "--heads", "2", "--out", folder.File("o.npy"));
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(new[] { 32768, 2 }, SelfAttention.IO.Npy.ReadFile(folder.File("o.npy")).Shape);

        var withWeights = Tool.Run("run", "--query", x, "--key", x, "--value", x, "--heads", "2", "--out", folder.File("o2.npy"), "--weights", folder.File("w.npy"));
        Tool.AssertUsageError(withWeights, "weights would hold 2147483648 values");
        Assert.Equal(["o.npy", "x.npy"], folder.Files());
    }

    // The path `spelling` gives to `target`: the same string, with ./ or dir/../, relative to the working directory,
    // a symbolic link (or a chain of two), a hard link.
    internal static string Spell(TempFolder folder, string target, string spelling)
    {
        string name = Path.GetFileName(target);
        switch (spelling)
        {
            case "same":
                return target;
            case "dot":
                return Path.Combine(folder.Path, ".", name);
            case "parent":
                Directory.CreateDirectory(folder.File("sub"));
                return Path.Combine(folder.Path, "sub", "..", name);
            case "relative":
                return Path.GetRelativePath(Environment.CurrentDirectory, target);
            case "symlink":
                File.CreateSymbolicLink(folder.File("link-" + name), target);
                return folder.File("link-" + name);
            case "symlink-chain":
                File.CreateSymbolicLink(folder.File("link1-" + name), target);
                File.CreateSymbolicLink(folder.File("link2-" + name), folder.File("link1-" + name));
                return folder.File("link2-" + name);
            default:
                if (!OperatingSystem.IsLinux())
                {
                    return target; // hard links are identified by inode on Linux only (FileIdentity's remarks)
                }

                using (var ln = Process.Start("ln", [target, folder.File("hard-" + name)]))
                {
                    ln.WaitForExit();
                    Assert.Equal(0, ln.ExitCode);
                }

                return folder.File("hard-" + name);
        }
    }

    private static TempFolder Inputs()
    {
        var folder = new TempFolder();
        NpyFiles.WriteRandom(folder.File("q.npy"), 1, 3, 8);
        NpyFiles.WriteRandom(folder.File("k.npy"), 2, 5, 8);
        NpyFiles.WriteRandom(folder.File("v.npy"), 3, 5, 16);
        return folder;
    }

    private static string[] InputArgs(TempFolder folder) =>
        ["--query", folder.File("q.npy"), "--key", folder.File("k.npy"), "--value", folder.File("v.npy")];
}
