using System.Security.Cryptography;
using SelfAttention.Cli.CommandLine;

namespace SelfAttention.Cli.Output;

/// <summary>
/// The output files of one command, written all or none: <see cref="Reserve"/> creates a hidden temporary file beside
/// each target before anything is computed (so a missing folder, a read-only folder or a full disk is found first),
/// <see cref="Write"/> fills it, and <see cref="Commit"/> flushes every one to disk and renames them over their
/// targets. Disposing without a commit deletes the temporary files; nothing else is touched.
/// </summary>
/// <remarks>
/// Every failure is an <see cref="OutputException"/> whose message names the user's path, never the temporary file.
/// Temporary names are random (<c>.NAME.16 hex digits.tmp</c>, created with <see cref="FileMode.CreateNew"/>), so two
/// runs writing the same target never share one. The renames are the commit point, one per file: on one file system
/// a rename does not fail for want of space, so a failure between two renames (which would leave the earlier target
/// replaced) needs the folder to change under the command.
/// </remarks>
internal sealed class OutputFiles : IDisposable
{
    private readonly string _command;
    private readonly List<Entry> _entries = [];

    public OutputFiles(string command) => _command = command;

    /// <summary>
    /// Checks that no output names an input or another output (by file identity: links and <c>./</c> included); throws
    /// a <see cref="UsageException"/> naming both options when one does.
    /// </summary>
    public static void EnsureDistinct(string command, IReadOnlyList<(string Option, string Path)> inputs, IReadOnlyList<(string Option, string Path)> outputs)
    {
        for (int o = 0; o < outputs.Count; o++)
        {
            foreach (var input in inputs)
            {
                if (FileIdentity.Same(outputs[o].Path, input.Path))
                {
                    throw new UsageException(
                        $"{command}: {outputs[o].Option} {CliText.Echo(outputs[o].Path)} is the input {input.Option} {CliText.Echo(input.Path)}: refusing to overwrite an input; choose another output file.");
                }
            }

            for (int other = 0; other < o; other++)
            {
                if (FileIdentity.Same(outputs[o].Path, outputs[other].Path))
                {
                    throw new UsageException(
                        $"{command}: {outputs[other].Option} and {outputs[o].Option} name the same file: {CliText.Echo(outputs[o].Path)}.");
                }
            }
        }
    }

    /// <summary>
    /// Creates the temporary file for output <paramref name="option"/> at <paramref name="path"/>, with
    /// <paramref name="expectedBytes"/> reserved on disk when the file system can (0: nothing reserved).
    /// </summary>
    public OutputFile Reserve(string option, string path, long expectedBytes)
    {
        string target = FileIdentity.FinalTarget(path);
        string? folder = Path.GetDirectoryName(target);
        string name = Path.GetFileName(target);
        if (folder is null || name.Length == 0 || Directory.Exists(target))
        {
            throw Fail(option, path, "it is a folder, not a file");
        }

        if (!Directory.Exists(folder))
        {
            throw Fail(option, path, "its folder does not exist");
        }

        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
            PreallocationSize = Math.Max(0, expectedBytes),
        };
        if (!OperatingSystem.IsWindows() && File.Exists(target))
        {
            // The new file replaces the old one: keep its permissions.
            options.UnixCreateMode = File.GetUnixFileMode(target);
        }

        // A name the folder can hold: the target's name cut to 64 characters, then a random suffix.
        string stem = name.Length <= 64 ? name : name[..64];
        for (int attempt = 0; ; attempt++)
        {
            string temporary = Path.Combine(folder, $".{stem}.{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8))}.tmp");
            FileStream stream;
            try
            {
                stream = new FileStream(temporary, options);
            }
            catch (IOException) when (attempt < 4 && File.Exists(temporary))
            {
                continue; // a name collision (odds 2^-64): draw another name
            }
            catch (Exception e) when (IsFileSystemFailure(e))
            {
                throw Fail(option, path, Describe(e, temporary, path), e);
            }

            var file = new OutputFile(option, path, target, temporary, stream);
            _entries.Add(new Entry(file));
            return file;
        }
    }

    /// <summary>Writes <paramref name="file"/>'s content with <paramref name="write"/>; an I/O failure names the user's path.</summary>
    public void Write(OutputFile file, Action<Stream> write)
    {
        try
        {
            write(file.Stream);
            file.Stream.SetLength(file.Stream.Position); // drop whatever the reservation added past the content
        }
        catch (Exception e) when (IsFileSystemFailure(e))
        {
            throw Fail(file.Option, file.UserPath, Describe(e, file.TemporaryPath, file.UserPath), e);
        }
    }

    /// <summary>Flushes every file to disk, closes it, and renames it over its target.</summary>
    public void Commit()
    {
        foreach (Entry entry in _entries)
        {
            OutputFile file = entry.File;
            try
            {
                file.Stream.Flush(flushToDisk: true);
                file.Stream.Dispose();
            }
            catch (Exception e) when (IsFileSystemFailure(e))
            {
                throw Fail(file.Option, file.UserPath, Describe(e, file.TemporaryPath, file.UserPath), e);
            }
        }

        foreach (Entry entry in _entries)
        {
            OutputFile file = entry.File;
            try
            {
                File.Move(file.TemporaryPath, file.TargetPath, overwrite: true);
                entry.Renamed = true;
            }
            catch (Exception e) when (IsFileSystemFailure(e))
            {
                throw Fail(file.Option, file.UserPath, Describe(e, file.TemporaryPath, file.UserPath), e);
            }
        }
    }

    /// <summary>Closes and deletes every temporary file not yet renamed. Never throws: it runs while another exception is on its way.</summary>
    public void Dispose()
    {
        foreach (Entry entry in _entries)
        {
            if (entry.Renamed)
            {
                continue;
            }

            try
            {
                entry.File.Stream.Dispose();
            }
            catch (Exception e) when (IsFileSystemFailure(e))
            {
                // Closing a file we are about to delete: its content no longer matters.
            }

            try
            {
                File.Delete(entry.File.TemporaryPath);
            }
            catch (Exception e) when (IsFileSystemFailure(e))
            {
                // Best effort: the failure that brought us here is the one to report, not a leftover temporary file.
            }
        }
    }

    private static bool IsFileSystemFailure(Exception e) => e is IOException or UnauthorizedAccessException or NotSupportedException;

    private OutputException Fail(string option, string path, string reason, Exception? inner = null) =>
        new($"{_command}: cannot write {option} {CliText.Echo(path)}: {reason}.", inner);

    // The reason in the user's terms; the system's own message with the temporary path replaced by the user's.
    private static string Describe(Exception e, string temporary, string path) => e switch
    {
        DirectoryNotFoundException => "its folder does not exist",
        UnauthorizedAccessException => "permission denied",
        PathTooLongException => "the path is too long",
        _ => e.Message.Replace(temporary, CliText.Echo(path), StringComparison.Ordinal).TrimEnd('.', ' '),
    };

    private sealed class Entry(OutputFile file)
    {
        public OutputFile File { get; } = file;

        public bool Renamed { get; set; }
    }
}

/// <summary>One output being written: the option that named it, the user's path, where it goes, and its temporary file.</summary>
internal sealed class OutputFile(string option, string userPath, string targetPath, string temporaryPath, FileStream stream)
{
    /// <summary>The option that named the file, e.g. <c>--out</c>.</summary>
    public string Option { get; } = option;

    /// <summary>The path as the user gave it (what messages name).</summary>
    public string UserPath { get; } = userPath;

    /// <summary>The full path the content goes to (symbolic links followed).</summary>
    public string TargetPath { get; } = targetPath;

    /// <summary>The hidden temporary file beside the target.</summary>
    public string TemporaryPath { get; } = temporaryPath;

    /// <summary>The temporary file, open for writing.</summary>
    public FileStream Stream { get; } = stream;
}
