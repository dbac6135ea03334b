using System.Globalization;

namespace SelfAttention.Cli.CommandLine;

/// <summary>
/// Reads one command's arguments: options are <c>--name value</c> or <c>--name=value</c>, flags are <c>--name</c>.
/// Every option is taken at most once; <see cref="EnsureAllConsumed"/> then rejects whatever the command did not ask
/// for, so a typo is an error and never silently ignored.
/// </summary>
internal sealed class ArgumentReader
{
    private readonly string _command;
    private readonly List<string?> _arguments;
    private readonly List<string> _missing = [];

    public ArgumentReader(string command, IEnumerable<string> arguments)
    {
        _command = command;
        _arguments = [];
        foreach (string argument in arguments)
        {
            // Split --name=value into two arguments so both spellings read alike.
            int equals = argument.IndexOf('=');
            if (argument.StartsWith("--", StringComparison.Ordinal) && equals > 2)
            {
                _arguments.Add(argument[..equals]);
                _arguments.Add(argument[(equals + 1)..]);
            }
            else
            {
                _arguments.Add(argument);
            }
        }
    }

    /// <summary>True when <c>--help</c> or <c>-h</c> is among the arguments.</summary>
    public bool WantsHelp => _arguments.Any(a => a is "--help" or "-h");

    /// <summary>Takes the flag <paramref name="name"/>; true when it was present.</summary>
    public bool Flag(string name)
    {
        int index = Find(name);
        if (index < 0)
        {
            return false;
        }

        _arguments[index] = null;
        if (Find(name) >= 0)
        {
            throw new UsageException($"{_command}: {name} is given more than once.");
        }

        return true;
    }

    /// <summary>Takes the value of option <paramref name="name"/>, or null when the option is absent.</summary>
    public string? Option(string name)
    {
        int index = Find(name);
        if (index < 0)
        {
            return null;
        }

        if (index + 1 >= _arguments.Count || _arguments[index + 1] is not { } value || IsOptionName(value))
        {
            throw new UsageException($"{_command}: {name} needs a value.");
        }

        _arguments[index] = null;
        _arguments[index + 1] = null;
        if (Find(name) >= 0)
        {
            throw new UsageException($"{_command}: {name} is given more than once.");
        }

        return value;
    }

    /// <summary>
    /// Takes the value of option <paramref name="name"/>, which must be present. A missing one is reported by
    /// <see cref="EnsureAllConsumed"/>, after unknown options (a misspelt option is the likelier mistake); until then
    /// it reads as the empty string.
    /// </summary>
    public string RequiredOption(string name)
    {
        string? value = Option(name);
        if (value is null)
        {
            _missing.Add(name);
        }

        return value ?? "";
    }

    /// <summary>Takes an integer option in [<paramref name="min"/>, <paramref name="max"/>], or null when absent.</summary>
    public int? IntOption(string name, int min, int max = int.MaxValue)
    {
        string? text = Option(name);
        if (text is null)
        {
            return null;
        }

        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) || value < min || value > max)
        {
            string range = max == int.MaxValue ? $"an integer ≥ {min}" : $"an integer from {min} to {max}";
            throw new UsageException($"{_command}: {name} expects {range}, got '{CliText.Echo(text)}'.");
        }

        return value;
    }

    /// <summary>Takes an integer option that must be present (reported like <see cref="RequiredOption"/>); reads as <paramref name="min"/> until then.</summary>
    public int RequiredIntOption(string name, int min, int max = int.MaxValue)
    {
        int? value = IntOption(name, min, max);
        if (value is null)
        {
            _missing.Add(name);
        }

        return value ?? min;
    }

    /// <summary>Takes a finite floating-point option, or null when absent.</summary>
    public float? FloatOption(string name)
    {
        string? text = Option(name);
        if (text is null)
        {
            return null;
        }

        if (!float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float value) || !float.IsFinite(value))
        {
            throw new UsageException($"{_command}: {name} expects a finite number, got '{CliText.Echo(text)}'.");
        }

        return value;
    }

    /// <summary>
    /// Takes a float32 option that must be finite and greater than 0 once parsed (so <c>1e-46</c>, which rounds to 0,
    /// and <c>1e39</c>, which rounds to ∞, are refused like <c>0</c>, <c>-0</c> and <c>NaN</c>), or null when absent.
    /// </summary>
    public float? PositiveFloatOption(string name)
    {
        string? text = Option(name);
        if (text is null)
        {
            return null;
        }

        bool parsed = float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out float value);
        if (!parsed || !float.IsFinite(value) || !(value > 0))
        {
            string why = !parsed ? "" : float.IsNaN(value) ? " (NaN)" : float.IsInfinity(value) ? " (beyond float32's largest, 3.4e38)" : value == 0 && !IsZeroText(text) ? " (it rounds to 0 in float32; the smallest is 1.4e-45)" : "";
            throw new UsageException($"{_command}: {name} expects a finite number greater than 0, got '{CliText.Echo(text)}'{why}.");
        }

        return value;
    }

    /// <summary>
    /// Takes a thread count: <c>-1</c> (one per processor) or 1 to <paramref name="max"/>; null when absent.
    /// </summary>
    public int? ThreadsOption(string name, int max = 1024)
    {
        string? text = Option(name);
        if (text is null)
        {
            return null;
        }

        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) || value == 0 || value < -1 || value > max)
        {
            throw new UsageException($"{_command}: {name} expects -1 (every core) or an integer from 1 to {max}, got '{CliText.Echo(text)}'.");
        }

        return value;
    }

    /// <summary>Takes the remaining arguments that are not options, in order (positional arguments).</summary>
    public List<string> Positionals()
    {
        var positionals = new List<string>();
        for (int i = 0; i < _arguments.Count; i++)
        {
            if (_arguments[i] is { } argument && !IsOptionName(argument))
            {
                positionals.Add(argument);
                _arguments[i] = null;
            }
        }

        return positionals;
    }

    /// <summary>Takes every remaining argument as given (with <c>--name=value</c> split in two), for a command that parses its own.</summary>
    public List<string> TakeAll()
    {
        var rest = _arguments.OfType<string>().ToList();
        _arguments.Clear();
        return rest;
    }

    /// <summary>Throws for the first argument nobody took (an unknown option or a stray value), then for a missing required option.</summary>
    public void EnsureAllConsumed()
    {
        foreach (string? argument in _arguments)
        {
            if (argument is null || argument is "--help" or "-h")
            {
                continue;
            }

            throw IsOptionName(argument)
                ? new UsageException($"{_command}: unknown option {CliText.Echo(argument)}; see 'selfattention {_command} --help'.")
                : new UsageException($"{_command}: unexpected argument '{CliText.Echo(argument)}'; see 'selfattention {_command} --help'.");
        }

        if (_missing.Count > 0)
        {
            throw new UsageException($"{_command}: {string.Join(", ", _missing)} {(_missing.Count == 1 ? "is" : "are")} required; see 'selfattention {_command} --help'.");
        }
    }

    private static bool IsZeroText(string text) => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && d == 0;

    // A negative number such as -0.5 is a value, not an option.
    private static bool IsOptionName(string argument) =>
        argument.StartsWith('-') && argument.Length > 1 && !char.IsDigit(argument[1]) && argument[1] != '.';

    private int Find(string name) => _arguments.IndexOf(name);
}
