using Microsoft.CodeAnalysis;
using Xunit;

namespace SelfAttention.Tests.Docs;

/// <summary>
/// The snippet runs change the process's current directory (so a snippet's relative file names land in a scratch
/// folder), so this collection runs alone.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ReadmeSnippetCollection
{
    public const string Name = "README snippets";
}

/// <summary>
/// Every <c>```csharp</c> block of README.md is a complete program a reader can paste into a new console project that
/// references the SelfAttention package: it compiles on its own (its own <c>using</c> lines and variables, no hidden
/// context; see <see cref="SnippetCompiler"/> for the exact settings) without a warning, and it runs to the end without
/// an exception. A failure names the README line of the block and of each diagnostic.
/// </summary>
[Collection(ReadmeSnippetCollection.Name)]
public class ReadmeSnippetTests
{
    private static readonly Lazy<(string Path, IReadOnlyList<MarkdownSnippet> Snippets)> s_readme = new(() =>
    {
        string path = Path.Combine(FindRepositoryRoot(), "README.md");
        return (path, MarkdownSnippet.ExtractCSharp(File.ReadAllText(path)));
    });

    /// <summary>The README line of each block's opening fence: the test case's name says which block failed.</summary>
    public static TheoryData<int> SnippetLines
    {
        get
        {
            var data = new TheoryData<int>();
            foreach (var snippet in s_readme.Value.Snippets)
            {
                data.Add(snippet.FenceLine);
            }

            return data;
        }
    }

    [Fact]
    public void Readme_HasCSharpSnippets_AndEveryFenceIsFound()
    {
        string[] lines = File.ReadAllLines(s_readme.Value.Path);
        int fences = lines.Count(line => line.TrimStart().StartsWith("```csharp", StringComparison.Ordinal));
        Assert.True(fences > 0, "README.md has no ```csharp block: the snippet test would check nothing.");
        Assert.Equal(fences, s_readme.Value.Snippets.Count);
    }

    [Theory]
    [MemberData(nameof(SnippetLines))]
    public void ReadmeSnippet_Compiles(int fenceLine)
    {
        var snippet = Find(fenceLine);
        var result = SnippetCompiler.Compile(snippet.Code, $"ReadmeSnippetLine{fenceLine}");
        Assert.True(result.Failures.Count == 0, Describe(snippet, result.Failures));
    }

    [Theory]
    [MemberData(nameof(SnippetLines))]
    public void ReadmeSnippet_Runs(int fenceLine)
    {
        var snippet = Find(fenceLine);
        var result = SnippetCompiler.Compile(snippet.Code, $"ReadmeSnippetLine{fenceLine}");
        Assert.True(result.Assembly is not null, Describe(snippet, result.Failures));

        string scratch = Path.Combine(Path.GetTempPath(), "selfattention-readme-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(scratch);
        string previous = Environment.CurrentDirectory;
        var output = new StringWriter();
        TextWriter console = Console.Out;
        try
        {
            Environment.CurrentDirectory = scratch;
            Console.SetOut(output);
            SnippetCompiler.Run(result.Assembly!);
        }
        catch (Exception e)
        {
            Assert.Fail($"README.md line {fenceLine}: the snippet compiles but throws when run: {e}");
        }
        finally
        {
            Console.SetOut(console);
            Environment.CurrentDirectory = previous;
            Directory.Delete(scratch, recursive: true);
        }
    }

    /// <summary>The machinery itself: a broken block is reported at its README line, with the compiler's message.</summary>
    [Fact]
    public void BrokenSnippet_IsReportedAtItsMarkdownLine()
    {
        const string markdown = "# Title\n\ntext\n\n```csharp\nusing SelfAttention;\n\nvar options = new AttentionOptions();\nAttention.Compute(q, options);\n```\n";
        var snippet = Assert.Single(MarkdownSnippet.ExtractCSharp(markdown));
        Assert.Equal(5, snippet.FenceLine);

        var result = SnippetCompiler.Compile(snippet.Code, "Broken");
        Assert.Null(result.Assembly);
        string message = Describe(snippet, result.Failures, "test.md");
        Assert.Contains("test.md:9:", message);       // `Attention.Compute(q, ...)` is markdown line 9
        Assert.Contains("CS0103", message);           // the name 'q' does not exist
    }

    /// <summary>A warning fails a snippet too (a reader's project may treat warnings as errors), and library namespaces are not implied.</summary>
    [Fact]
    public void WarningsAndMissingUsings_FailASnippet()
    {
        var warning = SnippetCompiler.Compile("string? s = null;\nConsole.WriteLine(s.Length);", "Warning");
        Assert.Contains(warning.Failures, d => d.Id == "CS8602");

        var noUsing = SnippetCompiler.Compile("var options = new AttentionOptions();\nConsole.WriteLine(options);", "NoUsing");
        Assert.Contains(noUsing.Failures, d => d.Id == "CS0246");

        var fine = SnippetCompiler.Compile("using SelfAttention;\n\nConsole.WriteLine(new AttentionOptions { IsCausal = true });", "Fine");
        Assert.Empty(fine.Failures);
    }

    [Fact]
    public void Extraction_SkipsOtherLanguages_HonoursLongerFences_AndRejectsAnUnclosedBlock()
    {
        const string markdown = "```bash\necho hi\n```\n````csharp\nvar a = 1;\n```\nvar b = 2;\n````\n```cs\nvar c = 3;\n```\n";
        var snippets = MarkdownSnippet.ExtractCSharp(markdown);
        Assert.Equal([4, 9], snippets.Select(s => s.FenceLine));
        Assert.Equal("var a = 1;\n```\nvar b = 2;", snippets[0].Code);
        Assert.Equal(10, snippets[1].FirstCodeLine);

        var e = Assert.Throws<FormatException>(() => MarkdownSnippet.ExtractCSharp("text\n```csharp\nvar a = 1;\n"));
        Assert.Contains("line 2", e.Message);
    }

    private static MarkdownSnippet Find(int fenceLine) =>
        s_readme.Value.Snippets.Single(snippet => snippet.FenceLine == fenceLine);

    private static string Describe(MarkdownSnippet snippet, IReadOnlyList<Diagnostic> failures, string file = "README.md")
    {
        var lines = failures.Where(d => d.Location.SourceTree?.FilePath == "snippet.cs" || !d.Location.IsInSource).Select(d =>
        {
            var position = d.Location.GetLineSpan().StartLinePosition;
            string where = d.Location.IsInSource ? $"{file}:{snippet.FirstCodeLine + position.Line}:{position.Character + 1}" : file;
            return $"  {where}: {d.Severity.ToString().ToLowerInvariant()} {d.Id}: {d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}";
        });
        return $"{file} line {snippet.FenceLine}: the ```csharp block does not compile as a program of its own:\n{string.Join('\n', lines)}";
    }

    // The folder above the test assembly that holds README.md and SelfAttention.sln.
    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "README.md")) && File.Exists(Path.Combine(directory.FullName, "SelfAttention.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"no folder above {AppContext.BaseDirectory} holds README.md and SelfAttention.sln.");
    }
}
