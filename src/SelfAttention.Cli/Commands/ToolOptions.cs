using System.CommandLine;

namespace SelfAttention.Cli.Commands;

/// <summary>Factories for the tool's own options, so each command's option list reads as one line per option.</summary>
internal static class ToolOptions
{
    /// <summary>An option with a text value (a path, a sentence, a list), <see langword="null"/> when absent.</summary>
    public static Option<string> Text(string name, string helpName, string description, bool required = false) => new(name)
    {
        Description = description,
        HelpName = helpName,
        Required = required,
    };

    /// <summary>
    /// An integer option in [<paramref name="min"/>, <paramref name="max"/>], <see langword="null"/> when absent; Tab
    /// completes the values when there are at most 16 of them (<c>--example</c>).
    /// </summary>
    public static Option<int?> Int(string name, string helpName, string description, int min, int max = int.MaxValue)
    {
        var option = new Option<int?>(name)
        {
            Description = description,
            HelpName = helpName,
            CustomParser = result => CommonOptions.ParseInt(result, min, max),
        };
        if ((long)max - min < 16)
        {
            option.CompletionSources.Add([.. Enumerable.Range(min, max - min + 1).Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture))]);
        }

        return option;
    }

    /// <summary>A required integer option in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public static Option<int> RequiredInt(string name, string helpName, string description, int min, int max = int.MaxValue) => new(name)
    {
        Description = description,
        HelpName = helpName,
        Required = true,
        CustomParser = result => CommonOptions.ParseInt(result, min, max),
    };

    /// <summary>A comma-separated list of integers, each at least <paramref name="min"/> (<c>--key-lengths 5,17,9</c>); <see langword="null"/> when absent.</summary>
    public static Option<int[]?> IntList(string name, string helpName, string description, int min) => new(name)
    {
        Description = description,
        HelpName = helpName,
        CustomParser = result =>
        {
            string text = result.Tokens[^1].Value;
            string[] parts = text.Split(',', StringSplitOptions.TrimEntries);
            var values = new int[parts.Length];
            for (int i = 0; i < parts.Length; i++)
            {
                if (!int.TryParse(parts[i], System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out values[i]) || values[i] < min)
                {
                    result.AddError($"{CommonOptions.OptionName(result)} expects comma-separated integers ≥ {min}, got '{CliText.Echo(text)}' (entry {i + 1}: '{CliText.Echo(parts[i])}').");
                    return null;
                }
            }

            return values;
        },
    };

    /// <summary><c>--window LEFT,RIGHT</c>: a sliding window, each side −1 (unbounded) or ≥ 0; <see langword="null"/> when absent.</summary>
    public static Option<AttentionWindow?> Window() => new("--window")
    {
        Description = "sliding window LEFT,RIGHT in keys around the row's position (FlashAttention's window_size; -1 = unbounded side), e.g. 256,0",
        HelpName = "L,R",
        CustomParser = result =>
        {
            string text = result.Tokens[^1].Value;
            string[] parts = text.Split(',', StringSplitOptions.TrimEntries);
            if (parts.Length == 2
                && int.TryParse(parts[0], System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int left) && left >= -1
                && int.TryParse(parts[1], System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int right) && right >= -1)
            {
                return new AttentionWindow(left, right);
            }

            result.AddError($"{CommonOptions.OptionName(result)} expects LEFT,RIGHT, each -1 (unbounded) or an integer ≥ 0, got '{CliText.Echo(text)}'.");
            return null;
        },
    };
}
