using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Xunit;

namespace SelfAttention.Tests.Allocation;

/// <summary>
/// Runs an allocation scenario in a process of its own (<c>dotnet SelfAttention.Tests.dll allocation-scenario TYPE
/// METHOD ARGS</c>, this process's environment inherited, so the SIMD width and tiering switches carry over), because
/// "process-wide" must mean the library's threads and nothing else: the test host polls for its parent's exit every
/// 100 ms through <c>Task.Delay</c> (168 bytes each time, seen from a pool thread's timer) and flushes its result cache
/// on a timer, so in-process any window longer than a few milliseconds would count the host's allocations.
/// <para>
/// A scenario is a static method of the test class whose parameters are ints, bools or enums; it runs its
/// <see cref="Helpers.AllocationAssert"/> checks and throws on failure. The child prints the failure and exits 1; this
/// side turns that into a test failure carrying the child's output.
/// </para>
/// </summary>
internal static class AllocationProcess
{
    private const string Verb = "allocation-scenario";
    private const string ChildVariable = "SELFATTENTION_TESTS_ALLOCATION_CHILD";
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(10);

    /// <summary>True inside a scenario's own process: the only place a process-wide measurement means something.</summary>
    public static bool IsIsolated => Environment.GetEnvironmentVariable(ChildVariable) == "1";

    /// <summary>Runs <paramref name="scenario"/> of <typeparamref name="T"/> with <paramref name="arguments"/> in a fresh process; fails the test if it fails.</summary>
    public static void Run<T>(string scenario, params object[] arguments)
    {
        string assembly = typeof(AllocationProcess).Assembly.Location;
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add("--runtimeconfig");
        start.ArgumentList.Add(Path.ChangeExtension(assembly, ".runtimeconfig.json"));
        start.ArgumentList.Add("--depsfile");
        start.ArgumentList.Add(Path.ChangeExtension(assembly, ".deps.json"));
        start.ArgumentList.Add(assembly);
        start.ArgumentList.Add(Verb);
        start.ArgumentList.Add(typeof(T).FullName!);
        start.ArgumentList.Add(scenario);
        foreach (object argument in arguments)
        {
            start.ArgumentList.Add(Convert.ToString(argument, CultureInfo.InvariantCulture)!);
        }

        start.Environment[ChildVariable] = "1";

        string call = $"{typeof(T).Name}.{scenario}({string.Join(", ", arguments)})";
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{call}: the scenario process did not start.");
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(s_timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            Assert.Fail($"{call}: the scenario process ran for over {s_timeout.TotalMinutes} minutes and was stopped.\n{output.Result}{error.Result}");
        }

        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{call} (own process, exit {process.ExitCode}):\n{output.Result}{error.Result}");
    }

    /// <summary>The child side: the test assembly's entry point.</summary>
    public static int ChildMain(string[] args)
    {
        if (args.Length < 3 || args[0] != Verb || !IsIsolated)
        {
            Console.Error.WriteLine($"usage: {ChildVariable}=1 dotnet SelfAttention.Tests.dll {Verb} TYPE METHOD [ARGS...] (started by AllocationProcess.Run)");
            return 2;
        }

        var type = typeof(AllocationProcess).Assembly.GetType(args[1], throwOnError: true)!;
        var method = type.GetMethod(args[2], BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)
                     ?? throw new MissingMethodException(type.FullName, args[2]);
        var parameters = method.GetParameters();
        if (parameters.Length != args.Length - 3)
        {
            Console.Error.WriteLine($"{method.Name} takes {parameters.Length} arguments, given {args.Length - 3}.");
            return 2;
        }

        var values = new object[parameters.Length];
        for (int index = 0; index < parameters.Length; index++)
        {
            var parameterType = parameters[index].ParameterType;
            string text = args[3 + index];
            values[index] = parameterType.IsEnum ? Enum.Parse(parameterType, text) : Convert.ChangeType(text, parameterType, CultureInfo.InvariantCulture);
        }

        try
        {
            method.Invoke(null, values);
            return 0;
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            Console.Out.WriteLine(e.InnerException.Message);
            Console.Out.WriteLine(e.InnerException.StackTrace);
            return 1;
        }
    }
}

/// <summary>The test assembly's entry point (the test SDK's generated one is turned off): the allocation scenarios' child processes.</summary>
internal static class Program
{
    public static int Main(string[] args) => AllocationProcess.ChildMain(args);
}
