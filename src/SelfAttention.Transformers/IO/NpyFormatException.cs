namespace SelfAttention.IO;

/// <summary>
/// A stream or file is not a <c>.npy</c> array this library can read: a bad magic string or version, a malformed header,
/// an unsupported dtype or layout, an invalid shape, or data cut short. The message is one line that says what is wrong,
/// with the expected and the actual value; <see cref="Npy.ReadFile"/> puts the file name in front.
/// </summary>
public sealed class NpyFormatException : FormatException
{
    /// <summary>Creates the exception with a generic message.</summary>
    public NpyFormatException()
        : base("The data is not a supported .npy array.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">One line: what is wrong, expected and actual.</param>
    public NpyFormatException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the exception that caused it.</summary>
    /// <param name="message">One line: what is wrong, expected and actual.</param>
    /// <param name="innerException">The underlying failure, or null.</param>
    public NpyFormatException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
