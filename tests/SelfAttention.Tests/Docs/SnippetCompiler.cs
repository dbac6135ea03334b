using System.Reflection;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace SelfAttention.Tests.Docs;

/// <summary>
/// Compiles a C# snippet as a reader's console program would: top-level statements, C# latest, nullable enabled,
/// warnings treated as errors, the SDK's implicit usings of a <c>dotnet new console</c> project (System, System.IO,
/// System.Collections.Generic, System.Linq, System.Net.Http, System.Threading, System.Threading.Tasks) and nothing
/// else, so every library namespace a snippet uses must be in its own <c>using</c> lines. It references the shared
/// framework this test runs on plus the library and the assemblies the library references (what the SelfAttention
/// package brings a user), not the test's own dependencies.
/// </summary>
internal static class SnippetCompiler
{
    private const string ImplicitUsings = """
        global using global::System;
        global using global::System.Collections.Generic;
        global using global::System.IO;
        global using global::System.Linq;
        global using global::System.Net.Http;
        global using global::System.Threading;
        global using global::System.Threading.Tasks;
        """;

    private static readonly Lazy<MetadataReference[]> s_references = new(LoadReferences);

    /// <summary>The result of one compilation: the diagnostics that fail it (errors and warnings) and, when there are none, the assembly.</summary>
    public sealed record Result(IReadOnlyList<Diagnostic> Failures, byte[]? Assembly);

    /// <summary>The assemblies a snippet compiles against.</summary>
    public static IReadOnlyList<MetadataReference> References => s_references.Value;

    public static Result Compile(string code, string assemblyName)
    {
        var parseOptions = new CSharpParseOptions(LanguageVersion.Latest);
        SyntaxTree snippet = CSharpSyntaxTree.ParseText(code, parseOptions, path: "snippet.cs");
        SyntaxTree usings = CSharpSyntaxTree.ParseText(ImplicitUsings, parseOptions, path: "ImplicitUsings.g.cs");
        var options = new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable,
                                                   generalDiagnosticOption: ReportDiagnostic.Error, allowUnsafe: false);
        var compilation = CSharpCompilation.Create(assemblyName, [snippet, usings], References, options);

        using var stream = new MemoryStream();
        var emit = compilation.Emit(stream);
        var failures = emit.Diagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning || d.IsWarningAsError).ToList();
        return new Result(failures, emit.Success && failures.Count == 0 ? stream.ToArray() : null);
    }

    /// <summary>
    /// Runs a compiled snippet's entry point in a collectible load context (the library resolves to the copy this test
    /// process has loaded) and unloads it. An exception the snippet throws propagates, unwrapped.
    /// </summary>
    public static void Run(byte[] assembly)
    {
        var context = new AssemblyLoadContext("snippet", isCollectible: true);
        try
        {
            MethodInfo entry = context.LoadFromStream(new MemoryStream(assembly)).EntryPoint
                ?? throw new InvalidOperationException("the compiled snippet has no entry point.");
            object?[]? arguments = entry.GetParameters().Length == 0 ? null : [Array.Empty<string>()];
            try
            {
                entry.Invoke(null, arguments);
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                ExceptionDispatchInfo.Capture(e.InnerException).Throw();
            }
        }
        finally
        {
            context.Unload();
        }
    }

    // The shared framework's assemblies from the trusted-platform list (its implementation assemblies: they carry the
    // same public surface as the reference pack), plus the library, the transformer blocks and their non-framework references.
    private static MetadataReference[] LoadReferences()
    {
        string frameworkDirectory = Path.GetFullPath(RuntimeEnvironment.GetRuntimeDirectory());
        string trusted = (string)(AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") ?? throw new InvalidOperationException("no trusted platform assemblies list"));
        var paths = trusted.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
                           .Where(path => Path.GetFullPath(path).StartsWith(frameworkDirectory, StringComparison.Ordinal))
                           .ToHashSet(StringComparer.Ordinal);

        var pending = new Stack<Assembly>([typeof(Attention).Assembly, typeof(SelfAttention.Transformers.Linear).Assembly]);
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        while (pending.TryPop(out Assembly? assembly))
        {
            if (!seen.Add(assembly.GetName().Name!) || assembly.Location.Length == 0
                || Path.GetFullPath(assembly.Location).StartsWith(frameworkDirectory, StringComparison.Ordinal))
            {
                continue;
            }

            paths.Add(assembly.Location);
            foreach (AssemblyName reference in assembly.GetReferencedAssemblies())
            {
                pending.Push(Assembly.Load(reference));
            }
        }

        return paths.Order(StringComparer.Ordinal).Select(path => (MetadataReference)MetadataReference.CreateFromFile(path)).ToArray();
    }
}
