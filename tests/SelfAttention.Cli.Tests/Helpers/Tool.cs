namespace SelfAttention.Cli.Tests.Helpers;

/// <summary>What one run of the tool printed and returned.</summary>
internal sealed record CliResult(int ExitCode, string Output, string Error)
{
    /// <summary>The non-empty lines of standard error.</summary>
    public string[] ErrorLines => Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Output}\n--- stderr\n{Error}";
}

/// <summary>Runs the tool in-process, as <c>selfattention ARGS</c> would, capturing both streams.</summary>
internal static class Tool
{
    public static CliResult Run(params string[] args)
    {
        var output = new StringWriter { NewLine = "\n" };
        var error = new StringWriter { NewLine = "\n" };
        int code = CliApp.Run(args, output, error);
        return new CliResult(code, output.ToString(), error.ToString());
    }

    /// <summary>
    /// Runs the tool in a process of its own (<c>dotnet SelfAttention.Cli.dll ARGS</c>, this process's environment
    /// inherited), for output that must not see this process: the bench table's bytes-per-call column counts the
    /// allocations of every thread of the process it runs in, and the test host has threads of its own.
    /// </summary>
    public static CliResult RunProcess(params string[] args)
    {
        var start = new System.Diagnostics.ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "SelfAttention.Cli.dll"));
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = System.Diagnostics.Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("selfattention " + string.Join(' ', args) + " ran for over two minutes.");
        }

        return new CliResult(process.ExitCode, output.ReplaceLineEndings("\n"), error.Result.ReplaceLineEndings("\n"));
    }

    /// <summary>Asserts a usage failure: exit code 2, exactly one bounded line on stderr containing every fragment.</summary>
    public static void AssertUsageError(CliResult result, params string[] fragments) => AssertFailure(result, 2, fragments);

    /// <summary>
    /// Asserts a failure with <paramref name="exitCode"/>: exactly one line on stderr (one newline, at its end), at most
    /// <see cref="global::SelfAttention.CommandLine.CliText.MaxLine"/> characters, no stack trace, containing every fragment.
    /// </summary>
    public static void AssertFailure(CliResult result, int exitCode, params string[] fragments)
    {
        Assert.True(result.ExitCode == exitCode, result.ToString());
        Assert.True(result.Error.EndsWith('\n') && result.Error.IndexOf('\n') == result.Error.Length - 1, result.ToString());
        Assert.True(result.Error.Length - 1 <= global::SelfAttention.CommandLine.CliText.MaxLine, $"{result.Error.Length} characters on stderr");
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception:", result.Error, StringComparison.Ordinal);
        foreach (string fragment in fragments)
        {
            Assert.Contains(fragment, result.Error, StringComparison.OrdinalIgnoreCase);
        }
    }
}

/// <summary>A fresh temporary folder per test, deleted afterwards.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "selfattention-cli-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>The names of the files in the folder, sorted.</summary>
    public string[] Files() => Directory.GetFiles(Path).Select(System.IO.Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary folder is harmless; the assertion that failed matters more.
        }
    }
}
