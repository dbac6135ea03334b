namespace SelfAttention.Cli.CommandLine;

/// <summary>
/// A command line that cannot be run as given: an unknown option, a missing or malformed value, a bad input file.
/// The tool prints the message on one line and exits with <see cref="ExitCodes.Usage"/>; nothing has been written.
/// </summary>
internal sealed class UsageException(string message) : Exception(message);
