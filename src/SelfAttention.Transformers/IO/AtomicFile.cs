namespace SelfAttention.IO;

/// <summary>
/// Writing a file all or nothing: into a hidden temporary file beside the target (same folder, so the rename stays on
/// one volume and is atomic), flushed to disk, then renamed over the target. On failure the temporary file is removed,
/// an old target is left as it was, and the exception names the caller's path, never the temporary file. Used by
/// <see cref="Npy.WriteFile(string, ReadOnlySpan{float}, ReadOnlySpan{int})"/> and by the transformer layer's
/// safetensors and config.json writers.
/// </summary>
internal static class AtomicFile
{
    /// <summary>Writes <paramref name="path"/> through <paramref name="write"/>, all or nothing.</summary>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or names a folder.</exception>
    /// <exception cref="IOException">The file cannot be written or moved into place; the message names <paramref name="path"/>.</exception>
    /// <exception cref="UnauthorizedAccessException">The folder or the file may not be written; the message names <paramref name="path"/>.</exception>
    public static void Write(string path, Action<Stream> write)
    {
        string temporary = TemporaryBeside(path, out string fullPath);
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, fullPath, overwrite: true);
        }
        catch (Exception exception)
        {
            Exception failure = Failed(exception, temporary, path);
            if (ReferenceEquals(failure, exception))
            {
                throw;
            }

            throw failure;
        }
    }

    /// <summary>The temporary file for <paramref name="path"/>, and the path made full.</summary>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or names a folder.</exception>
    public static string TemporaryBeside(string path, out string fullPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        fullPath = Path.GetFullPath(path);
        string fileName = Path.GetFileName(fullPath);
        string? folder = Path.GetDirectoryName(fullPath);
        if (fileName.Length == 0 || folder is null)
        {
            throw new ArgumentException($"path: expected a file path, actual the folder '{path}'.", nameof(path));
        }

        return Path.Combine(folder, $".{fileName}.{Guid.NewGuid():N}.tmp");
    }

    /// <summary>
    /// After a failed write: removes the temporary file and returns the exception to throw, an I/O failure retold
    /// about the user's <paramref name="path"/> (the same kind, so callers can still tell a missing folder from a full
    /// disk, the original as its inner exception), anything else as it was.
    /// </summary>
    public static Exception Failed(Exception exception, string temporary, string path)
    {
        DeleteQuietly(temporary);
        if (exception is not (IOException or UnauthorizedAccessException))
        {
            return exception;
        }

        string reason = exception.Message.Replace(temporary, path, StringComparison.Ordinal);
        string message = reason.Contains(path, StringComparison.Ordinal) ? reason : $"{path}: {reason}";
        return exception switch
        {
            UnauthorizedAccessException => new UnauthorizedAccessException(message, exception),
            DirectoryNotFoundException => new DirectoryNotFoundException(message, exception),
            PathTooLongException => new PathTooLongException(message, exception),
            FileNotFoundException => new FileNotFoundException(message, path, exception),
            _ => new IOException(message, exception) { HResult = exception.HResult },
        };
    }

    // A failure to remove the temporary file must not hide the original exception.
    private static void DeleteQuietly(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
