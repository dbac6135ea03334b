using System.Globalization;
using System.Text.RegularExpressions;
using Xunit;

namespace SelfAttention.Tests.Adversarial;

/// <summary>
/// One hostile call to one public member: what it targets (an <see cref="Api"/> signature), the parameter the exception
/// must name, the call itself (closing over its own small buffers), the sentinel-filled buffers it must leave untouched,
/// and the values its message must quote (the expected and the actual value, where the fault has them).
/// </summary>
internal sealed class BadCall
{
    /// <summary>A value no computation writes by accident; every watched buffer starts full of it.</summary>
    public const float Sentinel = -12345.25f;

    public required string Target { get; init; }

    public required string Parameter { get; init; }

    public required Action Call { get; init; }

    /// <summary>Buffers the call may write when it succeeds; after the throw each must still hold only <see cref="Sentinel"/>.</summary>
    public float[][] Watched { get; init; } = [];

    /// <summary>Substrings the message must contain, typically the expected and the actual value.</summary>
    public string[] Quotes { get; init; } = [];

    /// <summary>
    /// Whether the message must say "expected" and "actual". Off only for null arguments, whose
    /// <see cref="ArgumentNullException"/> has nothing to compare.
    /// </summary>
    public bool ExpectedVersusActual { get; init; } = true;

    /// <summary>An exact exception type, when the contract promises a particular subclass.</summary>
    public Type? ExceptionType { get; init; }

    /// <summary>Extra state that must be unchanged after the throw (a cache's length, a generator's position).</summary>
    public Action? AssertUnchanged { get; init; }

    /// <summary>A buffer of <paramref name="length"/> sentinels.</summary>
    public static float[] Sentinels(int length)
    {
        var buffer = new float[length];
        Array.Fill(buffer, Sentinel);
        return buffer;
    }

    /// <summary>An integer as the library formats it in messages.</summary>
    public static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    // A number must appear as a whole number (4 is not found in 48 or 0.4); other quotes as plain substrings.
    private static bool MessageQuotes(string message, string quote) =>
        long.TryParse(quote, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _)
            ? Regex.IsMatch(message, $@"(?<![\d.]){Regex.Escape(quote)}(?![\d]|\.\d)")
            : message.Contains(quote, StringComparison.Ordinal);

    /// <summary>Runs the call and asserts the whole contract.</summary>
    public void AssertRejected(string name)
    {
        Exception? thrown = null;
        try
        {
            Call();
        }
        catch (Exception caught)
        {
            thrown = caught;
        }

        string context = $"{Target} [{name}]";
        Assert.True(thrown is not null, $"{context}: expected an ArgumentException naming '{Parameter}', but the call returned normally.");
        Assert.True(thrown is ArgumentException, $"{context}: expected an ArgumentException (or subclass), actual {thrown!.GetType().Name}: {thrown.Message}");
        var exception = (ArgumentException)thrown;
        if (ExceptionType is not null)
        {
            Assert.True(exception.GetType() == ExceptionType, $"{context}: expected {ExceptionType.Name}, actual {exception.GetType().Name}: {exception.Message}");
        }

        Assert.True(exception.ParamName == Parameter, $"{context}: ParamName is '{exception.ParamName}', expected '{Parameter}'. Message: {exception.Message}");
        if (ExpectedVersusActual)
        {
            Assert.True(exception.Message.Contains("expected", StringComparison.OrdinalIgnoreCase), $"{context}: the message must say what was expected: \"{exception.Message}\"");
            Assert.True(exception.Message.Contains("actual", StringComparison.OrdinalIgnoreCase), $"{context}: the message must say what was passed: \"{exception.Message}\"");
        }

        foreach (string quote in Quotes)
        {
            Assert.True(MessageQuotes(exception.Message, quote), $"{context}: the message must quote \"{quote}\": \"{exception.Message}\"");
        }

        for (int b = 0; b < Watched.Length; b++)
        {
            float[] buffer = Watched[b];
            for (int i = 0; i < buffer.Length; i++)
            {
                Assert.True(buffer[i].Equals(Sentinel), $"{context}: watched buffer {b} element {i} was written ({buffer[i]}) before the exception.");
            }
        }

        AssertUnchanged?.Invoke();
    }
}

/// <summary>A named table of bad calls, built fresh per run so that no case sees another's buffers.</summary>
internal sealed class BadCallTable : Dictionary<string, Func<BadCall>>
{
    public TheoryData<string> Names()
    {
        var names = new TheoryData<string>();
        foreach (string name in Keys)
        {
            names.Add(name);
        }

        return names;
    }

    public IEnumerable<string> Targets() => Values.Select(make => make().Target).Distinct();

    public void Run(string name) => this[name]().AssertRejected(name);
}
