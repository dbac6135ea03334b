using SelfAttention.Cli.CommandLine;
using SelfAttention.Cli.Output;
using SelfAttention.Cli.Tests.Commands;
using SelfAttention.Cli.Tests.Helpers;

namespace SelfAttention.Cli.Tests.Output;

/// <summary>The tool's one writer: temporary files, commit by rename, cleanup that never hides the first failure.</summary>
public class OutputFilesTests
{
    [Fact]
    public void CommitReplacesTheTargetsAndLeavesNoTemporaryFile()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File("a.txt"), "old");
        using (var files = new OutputFiles("test"))
        {
            OutputFile a = files.Reserve("--a", folder.File("a.txt"), 1 << 20);
            OutputFile b = files.Reserve("--b", folder.File("b.txt"), 0);
            Assert.Equal("old", File.ReadAllText(folder.File("a.txt")));
            Assert.Equal(3, folder.Files().Length); // a.txt and the two temporaries
            files.Write(a, s => s.Write("new a"u8));
            files.Write(b, s => s.Write("new b"u8));
            files.Commit();
        }

        Assert.Equal(["a.txt", "b.txt"], folder.Files());
        Assert.Equal("new a", File.ReadAllText(folder.File("a.txt"))); // the reservation is trimmed off
        Assert.Equal("new b", File.ReadAllText(folder.File("b.txt")));
    }

    [Fact]
    public void DisposingWithoutACommitDeletesTheTemporariesAndTouchesNothingElse()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File("a.txt"), "old");
        using (var files = new OutputFiles("test"))
        {
            OutputFile a = files.Reserve("--a", folder.File("a.txt"), 0);
            files.Write(a, s => s.Write("half"u8));
        }

        Assert.Equal(["a.txt"], folder.Files());
        Assert.Equal("old", File.ReadAllText(folder.File("a.txt")));
    }

    [Fact]
    public void AFailedWriteNamesTheUsersPathAndCleanupKeepsThatFailure()
    {
        using var folder = new TempFolder();
        var files = new OutputFiles("test");
        OutputFile a = files.Reserve("--a", folder.File("a.txt"), 0);
        File.Delete(a.TemporaryPath); // cleanup will find nothing to delete: it must not throw over the real failure
        var e = Assert.Throws<OutputException>(() => files.Write(a, _ => throw new IOException($"disk on fire at '{a.TemporaryPath}'")));
        Assert.Contains("--a", e.Message, StringComparison.Ordinal);
        Assert.Contains(folder.File("a.txt"), e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(".tmp", e.Message, StringComparison.Ordinal);
        files.Dispose();
        Assert.Empty(folder.Files());
    }

    [Fact]
    public void TemporaryNamesAreRandomAndHidden()
    {
        using var folder = new TempFolder();
        using var first = new OutputFiles("test");
        using var second = new OutputFiles("test");
        OutputFile a = first.Reserve("--a", folder.File("a.txt"), 0);
        OutputFile b = second.Reserve("--a", folder.File("a.txt"), 0);
        Assert.NotEqual(a.TemporaryPath, b.TemporaryPath);
        Assert.StartsWith(".a.txt.", Path.GetFileName(a.TemporaryPath), StringComparison.Ordinal);
        Assert.DoesNotContain(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), Path.GetFileName(a.TemporaryPath), StringComparison.Ordinal);
    }

    [Fact]
    public void AVeryLongFileNameStillGetsATemporaryFile()
    {
        using var folder = new TempFolder();
        string name = new string('n', 250) + ".npy";
        using var files = new OutputFiles("test");
        OutputFile a = files.Reserve("--a", folder.File(name), 0);
        files.Write(a, s => s.Write("x"u8));
        files.Commit();
        Assert.Equal([name], folder.Files());
    }

    [Fact]
    public void TheReplacedFileKeepsItsPermissions()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using var folder = new TempFolder();
        File.WriteAllText(folder.File("a.txt"), "old");
        File.SetUnixFileMode(folder.File("a.txt"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        using (var files = new OutputFiles("test"))
        {
            files.Write(files.Reserve("--a", folder.File("a.txt"), 0), s => s.Write("new"u8));
            files.Commit();
        }

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(folder.File("a.txt")));
    }

    [Theory]
    [InlineData("same", true)]
    [InlineData("dot", true)]
    [InlineData("parent", true)]
    [InlineData("relative", true)]
    [InlineData("symlink", true)]
    [InlineData("symlink-chain", true)]
    [InlineData("hardlink", true)]
    public void FileIdentitySeesThroughSpellingsAndLinks(string spelling, bool same)
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File("a.txt"), "a");
        File.WriteAllText(folder.File("b.txt"), "b");
        string path = OutputSafetyTests.Spell(folder, folder.File("a.txt"), spelling);
        Assert.Equal(same, FileIdentity.Same(path, folder.File("a.txt")));
        Assert.False(FileIdentity.Same(path, folder.File("b.txt")));
    }

    [Fact]
    public void FileIdentityOfFilesNotYetThere()
    {
        using var folder = new TempFolder();
        Assert.True(FileIdentity.Same(folder.File("new.txt"), Path.Combine(folder.Path, ".", "new.txt")));
        Assert.False(FileIdentity.Same(folder.File("new.txt"), folder.File("other.txt")));
        File.CreateSymbolicLink(folder.File("dangling"), folder.File("new.txt"));
        Assert.True(FileIdentity.Same(folder.File("dangling"), folder.File("new.txt")));
    }
}
