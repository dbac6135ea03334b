using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace SelfAttention.CommandLine;

/// <summary>
/// The options the tool and the benchmarks exe share, each defined once here (name, default, range, help line), and
/// the value parsers every numeric option of either goes through, so a value is read and refused the same way
/// everywhere. Each factory returns a new <see cref="Option{T}"/>, ready to add to one command.
/// </summary>
public static class CommonOptions
{
    /// <summary>The largest <c>--threads</c>.</summary>
    public const int MaxThreads = 1024;

    /// <summary>
    /// The default of <c>--threads</c> everywhere: 1, the calling thread only, as <c>AttentionOptions</c> itself
    /// defaults to. Results are bit-identical for any thread count, so this only decides speed.
    /// </summary>
    public const int DefaultThreads = 1;

    /// <summary>
    /// <c>--threads N</c>: <c>AttentionOptions.MaxDegreeOfParallelism</c>, −1 (one thread per processor) or 1 to
    /// <see cref="MaxThreads"/>; default <see cref="DefaultThreads"/>. 0 is refused: it would silently mean one thread.
    /// </summary>
    /// <param name="description">The help line, when a command says more than the default one.</param>
    public static Option<int> Threads(string? description = null) => new("--threads")
    {
        Description = description ?? $"worker threads: -1 (every core) or 1 to {MaxThreads}; results are identical for any count",
        HelpName = "N",
        DefaultValueFactory = _ => DefaultThreads,
        CustomParser = result => ParseThreads(result),
    };

    /// <summary><c>--causal</c>: mask later keys, bottom-right aligned (the last query row sees every key).</summary>
    /// <param name="description">The help line, when a command says more than the default one.</param>
    public static Option<bool> Causal(string? description = null) => new("--causal")
    {
        Description = description ?? "mask later keys, bottom-right aligned: with more keys than queries the last query sees every key",
        Arity = ArgumentArity.Zero,
    };

    /// <summary>
    /// An option whose value is one of <paramref name="values"/>: anything else is refused with the list, and Tab
    /// completes them.
    /// </summary>
    /// <param name="name">The option's name (<c>--normalization</c>).</param>
    /// <param name="description">The help line.</param>
    /// <param name="values">The accepted values, in help order.</param>
    /// <returns>The option; its value is <see langword="null"/> when absent.</returns>
    public static Option<string> Choice(string name, string description, params string[] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var option = new Option<string>(name) { Description = description, HelpName = string.Join('|', values) };
        option.Validators.Add(result =>
        {
            if (result.Tokens.Count > 0 && Array.IndexOf(values, result.Tokens[^1].Value) < 0)
            {
                result.AddError($"{result.IdentifierToken?.Value ?? name} expects {Alternatives(values)}, got '{CliText.Echo(result.Tokens[^1].Value)}'.");
            }
        });
        option.CompletionSources.Add(values);
        return option;
    }

    /// <summary>"a, b or c".</summary>
    /// <param name="values">The alternatives.</param>
    /// <returns>The alternatives joined for a message.</returns>
    public static string Alternatives(IReadOnlyList<string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return values.Count <= 1 ? string.Join("", values) : $"{string.Join(", ", values.Take(values.Count - 1))} or {values[^1]}";
    }

    /// <summary>Parses the single token of <paramref name="result"/> as an integer in [<paramref name="min"/>, <paramref name="max"/>]; reports an error on the result otherwise.</summary>
    /// <param name="result">The option's argument.</param>
    /// <param name="min">The smallest value accepted.</param>
    /// <param name="max">The largest value accepted.</param>
    /// <returns>The value, or <paramref name="min"/> after reporting an error.</returns>
    public static int ParseInt(ArgumentResult result, int min, int max = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(result);
        string text = Token(result);
        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value >= min && value <= max)
        {
            return value;
        }

        string range = max == int.MaxValue ? $"an integer ≥ {min}" : $"an integer from {min} to {max}";
        result.AddError($"{OptionName(result)} expects {range}, got '{CliText.Echo(text)}'.");
        return min;
    }

    /// <summary>Parses a thread count: −1 (every core) or 1 to <see cref="MaxThreads"/>.</summary>
    /// <param name="result">The option's argument.</param>
    /// <returns>The value, or <see cref="DefaultThreads"/> after reporting an error.</returns>
    public static int ParseThreads(ArgumentResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        string text = Token(result);
        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && (value == -1 || value is >= 1 and <= MaxThreads))
        {
            return value;
        }

        result.AddError($"{OptionName(result)} expects -1 (every core) or an integer from 1 to {MaxThreads}, got '{CliText.Echo(text)}'.");
        return DefaultThreads;
    }

    /// <summary>
    /// Parses a float32 that is finite and greater than 0 once rounded (so <c>1e-46</c>, which rounds to 0, and
    /// <c>1e39</c>, which rounds to ∞, are refused like <c>0</c>, <c>-0</c> and <c>NaN</c>).
    /// </summary>
    /// <param name="result">The option's argument.</param>
    /// <returns>The value, or <see langword="null"/> after reporting an error.</returns>
    public static float? ParsePositiveFloat(ArgumentResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        string text = Token(result);
        bool parsed = float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float value);
        if (parsed && float.IsFinite(value) && value > 0)
        {
            return value;
        }

        string why = !parsed ? ""
            : float.IsNaN(value) ? " (NaN)"
            : float.IsInfinity(value) ? " (beyond float32's largest, 3.4e38)"
            : value == 0 && !IsZeroText(text) ? " (it rounds to 0 in float32; the smallest is 1.4e-45)"
            : "";
        result.AddError($"{OptionName(result)} expects a finite number greater than 0, got '{CliText.Echo(text)}'{why}.");
        return null;
    }

    /// <summary>Parses a finite number of seconds in (0, <paramref name="max"/>], or [0, <paramref name="max"/>] with <paramref name="allowZero"/>.</summary>
    /// <param name="result">The option's argument.</param>
    /// <param name="allowZero">Whether 0 is accepted.</param>
    /// <param name="max">The largest value accepted.</param>
    /// <returns>The value, or 0 after reporting an error.</returns>
    public static double ParseSeconds(ArgumentResult result, bool allowZero, double max)
    {
        ArgumentNullException.ThrowIfNull(result);
        string text = Token(result);
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value)
            && double.IsFinite(value) && (allowZero ? value >= 0 : value > 0) && value <= max)
        {
            return value;
        }

        string range = allowZero ? $"from 0 to {max.ToString(CultureInfo.InvariantCulture)}" : $"more than 0 and at most {max.ToString(CultureInfo.InvariantCulture)}";
        result.AddError($"{OptionName(result)} expects a number of seconds {range}, got '{CliText.Echo(text)}'.");
        return 0;
    }

    /// <summary>Splits a comma-separated list, trimming entries and dropping empty ones.</summary>
    /// <param name="list">The option's text.</param>
    /// <returns>The entries, in order.</returns>
    public static string[] SplitList(string list)
    {
        ArgumentNullException.ThrowIfNull(list);
        return list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    /// <summary>The option's name as the user typed it (<c>--threads</c>), for messages.</summary>
    /// <param name="result">The option's argument.</param>
    /// <returns>The option's name, or the argument's when it is not an option's.</returns>
    public static string OptionName(ArgumentResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return result.Parent is OptionResult option ? option.IdentifierToken?.Value ?? option.Option.Name : result.Argument.Name;
    }

    // The option's value: options here take exactly one token, which the parser guarantees before a custom parser runs.
    private static string Token(ArgumentResult result) => result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";

    private static bool IsZeroText(string text) => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && d == 0;
}
