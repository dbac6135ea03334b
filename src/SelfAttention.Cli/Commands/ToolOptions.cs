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
}
