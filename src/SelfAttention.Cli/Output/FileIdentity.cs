using System.Runtime.InteropServices;

namespace SelfAttention.Cli.Output;

/// <summary>
/// Whether two paths name the same file, by identity rather than by spelling: <c>q.npy</c>, <c>./q.npy</c>, a
/// symbolic link to it and a hard link to it are all the same file.
/// </summary>
/// <remarks>
/// On Linux an existing file is identified by its device and inode numbers, read with <c>statx(2)</c> (glibc 2.28,
/// Linux 4.11; its <c>struct statx</c> has one layout on every architecture, so the declaration below needs no
/// per-platform variants, and a source-generated P/Invoke is NativeAOT-safe). Elsewhere, or when <c>statx</c> is not
/// there, files are compared by their full paths after following symbolic links: that misses hard links (and, on a
/// case-insensitive file system, paths that differ only in case). A path that does not exist yet is identified by
/// its folder's identity and its file name, after following a dangling link to where it points.
/// </remarks>
internal static partial class FileIdentity
{
    private const int AtFdCwd = -100;
    private const uint StatxIno = 0x100;
    private const int StatxBufferSize = 256;
    private static bool s_statxMissing;

    /// <summary>Whether <paramref name="a"/> and <paramref name="b"/> name the same file (existing or not).</summary>
    public static bool Same(string a, string b)
    {
        string targetA = FinalTarget(a), targetB = FinalTarget(b);
        bool existsA = File.Exists(targetA) || Directory.Exists(targetA), existsB = File.Exists(targetB) || Directory.Exists(targetB);
        if (existsA != existsB)
        {
            return false;
        }

        if (existsA)
        {
            return TryInode(targetA, out var idA) && TryInode(targetB, out var idB) ? idA == idB : SamePath(targetA, targetB);
        }

        // Neither exists: the same name in the same folder.
        string folderA = Path.GetDirectoryName(targetA) ?? targetA, folderB = Path.GetDirectoryName(targetB) ?? targetB;
        if (!SameName(Path.GetFileName(targetA), Path.GetFileName(targetB)))
        {
            return false;
        }

        return Directory.Exists(folderA) && Directory.Exists(folderB) && TryInode(folderA, out var dirA) && TryInode(folderB, out var dirB)
            ? dirA == dirB
            : SamePath(folderA, folderB);
    }

    /// <summary>
    /// The full path <paramref name="path"/> finally refers to: symbolic links at its last component followed to their
    /// end (even when the end does not exist). Writing there keeps a link a link, as a shell redirection does.
    /// </summary>
    public static string FinalTarget(string path)
    {
        string full = Path.GetFullPath(path);
        try
        {
            var info = new FileInfo(full);
            if (info.LinkTarget is null)
            {
                return full;
            }

            return info.ResolveLinkTarget(returnFinalTarget: true) is { } target ? Path.GetFullPath(target.FullName) : full;
        }
        catch (IOException)
        {
            // A link loop or an unreadable link: keep the spelling; opening the file will report the problem.
            return full;
        }
        catch (UnauthorizedAccessException)
        {
            return full;
        }
    }

    private static bool SamePath(string a, string b) =>
        string.Equals(Path.TrimEndingDirectorySeparator(a), Path.TrimEndingDirectorySeparator(b),
                      OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);

    private static bool SameName(string a, string b) =>
        string.Equals(a, b, OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);

    // (device major, device minor, inode) of an existing path, following links; false when it cannot be read.
    private static bool TryInode(string path, out (uint Major, uint Minor, ulong Inode) id)
    {
        id = default;
        if (!OperatingSystem.IsLinux() || s_statxMissing)
        {
            return false;
        }

        var buffer = new byte[StatxBufferSize];
        try
        {
            if (Statx(AtFdCwd, path, 0, StatxIno, buffer) != 0)
            {
                return false;
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            s_statxMissing = true;
            return false;
        }

        // struct statx: stx_mask at 0 (u32), stx_ino at 32 (u64), stx_dev_major at 136, stx_dev_minor at 140 (u32).
        if ((BitConverter.ToUInt32(buffer, 0) & StatxIno) == 0)
        {
            return false;
        }

        id = (BitConverter.ToUInt32(buffer, 136), BitConverter.ToUInt32(buffer, 140), BitConverter.ToUInt64(buffer, 32));
        return true;
    }

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int directoryFd, string path, int flags, uint mask, [Out] byte[] buffer);
}
