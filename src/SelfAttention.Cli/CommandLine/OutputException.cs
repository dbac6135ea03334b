namespace SelfAttention.Cli.CommandLine;

/// <summary>
/// An output file cannot be written: its folder is missing or read-only, the disk is full, the rename failed. The
/// message names the user's path (never the hidden temporary file); the tool prints it on one line and exits with
/// <see cref="ExitCodes.Failure"/>, and no output of the command is left behind.
/// </summary>
internal sealed class OutputException(string message, Exception? inner = null) : Exception(message, inner);
