using Xunit;

namespace SelfAttention.Tests.Validation;

/// <summary>The bad-input contract: an <see cref="ArgumentException"/> (or subclass) naming the parameter, with "expected" and "actual" in its message.</summary>
internal static class ContractAssert
{
    /// <summary>
    /// Runs <paramref name="action"/> and asserts the contract. The parameter name must be <paramref name="parameter"/>
    /// itself or a member path below it (<c>shape.Heads</c> names the parameter <c>shape</c>).
    /// </summary>
    public static ArgumentException Throws(Action action, string parameter, string context)
    {
        ArgumentException? exception = null;
        try
        {
            action();
        }
        catch (ArgumentException caught)
        {
            exception = caught;
        }

        Assert.True(exception is not null, $"{context}: expected an ArgumentException naming '{parameter}', but the call returned normally.");
        string? name = exception!.ParamName;
        Assert.True(name == parameter || (name?.StartsWith(parameter + ".", StringComparison.Ordinal) ?? false),
            $"{context}: ParamName is '{name}', expected '{parameter}'. Message: {exception.Message}");
        Assert.True(exception.Message.Contains("expected", StringComparison.OrdinalIgnoreCase),
            $"{context}: the message must say what was expected: \"{exception.Message}\"");
        Assert.True(exception.Message.Contains("actual", StringComparison.OrdinalIgnoreCase),
            $"{context}: the message must say what was actually passed: \"{exception.Message}\"");
        return exception;
    }

    /// <summary>Every element of every buffer still holds <paramref name="sentinel"/>: nothing was written before the throw.</summary>
    public static void Untouched(IEnumerable<float[]> buffers, float sentinel, string context)
    {
        int index = 0;
        foreach (float[] buffer in buffers)
        {
            for (int i = 0; i < buffer.Length; i++)
            {
                Assert.True(buffer[i].Equals(sentinel), $"{context}: buffer {index} element {i} was written ({buffer[i]}) before the exception.");
            }

            index++;
        }
    }
}
