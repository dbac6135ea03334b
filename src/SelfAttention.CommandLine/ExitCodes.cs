namespace SelfAttention.CommandLine;

/// <summary>The process exit codes, the same for every command of the tool and the benchmarks exe (documented in <c>--help</c> and README).</summary>
public static class ExitCodes
{
    /// <summary>The command did what was asked.</summary>
    public const int Success = 0;

    /// <summary>The command ran and failed: an output file could not be written, or a benchmark implementation disagreed with the oracle.</summary>
    public const int Failure = 1;

    /// <summary>The command line or an input file is wrong (unknown option, bad value, malformed or mismatched .npy); nothing was written.</summary>
    public const int Usage = 2;
}
