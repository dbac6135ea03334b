using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;
using System.Text;

namespace SelfAttention.Comparison.Peers;

/// <summary>
/// The system OpenBLAS (Debian: <c>apt-get install libopenblas0</c>), loaded on first use with
/// <see cref="NativeLibrary.TryLoad(string, out IntPtr)"/>; when it is missing, <see cref="FailureReason"/> says so and
/// the peer is skipped. OpenBLAS reads <c>OPENBLAS_CORETYPE</c> and <c>OPENBLAS_NUM_THREADS</c> from the native
/// environment when it is loaded, so they are set with the C library's <c>setenv</c> first (on Unix,
/// <see cref="Environment.SetEnvironmentVariable(string, string)"/> only changes the managed copy). A value the user
/// set is kept. <c>SELFATTENTION_OPENBLAS=/path/to/libopenblas.so</c> loads another build instead of the system one.
/// OpenBLAS 0.3.21 reports Zen 5 as Haswell and runs its AVX2 kernels (≈ 105 GFLOP/s sgemm here);
/// <c>SkylakeX</c> selects the AVX-512 ones (≈ 200).
/// </summary>
internal static unsafe class OpenBlasLibrary
{
    /// <summary>CBLAS constants.</summary>
    public const int RowMajor = 101, NoTrans = 111, Trans = 112;

    /// <summary>Environment variable naming the library to load instead of the system one.</summary>
    public const string LibraryVariable = "SELFATTENTION_OPENBLAS";

    private static readonly string[] s_names = ["libopenblas.so.0", "libopenblas.so", "libopenblas.dylib", "libopenblas.dll", "openblas"];
    private static readonly string? s_failure;
    private static readonly string s_description = "";

    // void cblas_sgemm(order, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc), 32-bit blasint.
    private static readonly delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> s_sgemm;

    static OpenBlasLibrary()
    {
        string coreType = Avx512F.IsSupported ? "SkylakeX" : Avx2.IsSupported ? "Haswell" : "";
        if (coreType.Length > 0)
        {
            SetNativeEnvironmentDefault("OPENBLAS_CORETYPE", coreType);
        }

        SetNativeEnvironmentDefault("OPENBLAS_NUM_THREADS", "1");

        string? loadedName = null;
        nint handle = 0;
        string? custom = Environment.GetEnvironmentVariable(LibraryVariable);
        foreach (string name in string.IsNullOrEmpty(custom) ? s_names : [custom])
        {
            if (NativeLibrary.TryLoad(name, out handle))
            {
                loadedName = name;
                break;
            }
        }

        if (loadedName is null)
        {
            s_failure = string.IsNullOrEmpty(custom)
                ? "libopenblas.so.0 not found (Debian/Ubuntu: apt-get install libopenblas0)"
                : $"{custom} ({LibraryVariable}) cannot be loaded";
            return;
        }

        if (!NativeLibrary.TryGetExport(handle, "cblas_sgemm", out nint sgemm))
        {
            s_failure = $"{loadedName} has no cblas_sgemm";
            return;
        }

        s_sgemm = (delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)sgemm;
        if (NativeLibrary.TryGetExport(handle, "openblas_set_num_threads", out nint setThreads))
        {
            ((delegate* unmanaged<int, void>)setThreads)(1);
        }

        string core = NativeLibrary.TryGetExport(handle, "openblas_get_corename", out nint getCore)
            ? Marshal.PtrToStringUTF8(((delegate* unmanaged<nint>)getCore)()) ?? "?" : "?";
        string config = NativeLibrary.TryGetExport(handle, "openblas_get_config", out nint getConfig)
            ? Marshal.PtrToStringUTF8(((delegate* unmanaged<nint>)getConfig)()) ?? "" : "";
        s_description = $"{loadedName}: core {core}, 1 thread (OPENBLAS_CORETYPE={Environment.GetEnvironmentVariable("OPENBLAS_CORETYPE") ?? "unset"}); {config.Trim()}";
    }

    /// <summary>Why OpenBLAS cannot be used, or <see langword="null"/> once it is loaded.</summary>
    public static string? FailureReason => s_failure;

    /// <summary>Which library, core and configuration are in use (empty if not loaded).</summary>
    public static string Description => s_description;

    /// <summary><c>cblas_sgemm</c>; only valid when <see cref="FailureReason"/> is <see langword="null"/>.</summary>
    public static delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> Sgemm => s_sgemm;

    // Sets a variable the user has not set, in the managed view (child processes) and the native environment (getenv).
    private static void SetNativeEnvironmentDefault(string name, string value)
    {
        if (Environment.GetEnvironmentVariable(name) is not null)
        {
            return;
        }

        Environment.SetEnvironmentVariable(name, value);
        if (OperatingSystem.IsWindows()
            || !NativeLibrary.TryGetExport(NativeLibrary.GetMainProgramHandle(), "setenv", out nint setenv))
        {
            return;
        }

        byte[] nameBytes = Encoding.UTF8.GetBytes(name + "\0"), valueBytes = Encoding.UTF8.GetBytes(value + "\0");
        fixed (byte* n = nameBytes, v = valueBytes)
        {
            _ = ((delegate* unmanaged<byte*, byte*, int, int>)setenv)(n, v, 1);
        }
    }
}
