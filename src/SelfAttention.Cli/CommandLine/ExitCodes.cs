namespace SelfAttention.Cli.CommandLine;

/// <summary>The process exit codes, the same for every command (documented in <c>--help</c> and README).</summary>
internal static class ExitCodes
{
    /// <summary>The command did what was asked.</summary>
    public const int Success = 0;

    /// <summary>The command ran and failed: a benchmark implementation disagreed with the oracle, or an output file could not be written.</summary>
    public const int Failure = 1;

    /// <summary>The command line or an input file is wrong (unknown option, bad value, malformed or mismatched .npy); nothing was written.</summary>
    public const int Usage = 2;
}
