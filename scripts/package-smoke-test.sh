#!/usr/bin/env bash
# Packs the library (SelfAttention), the transformer layer (SelfAttention.Transformers) and the tool
# (SelfAttention.Cli) into a local folder, checks what the packages hold, installs the library and the transformer
# layer into scratch console projects and the tool into a scratch tool path, and runs all three.
# Uses a private NuGet cache, so a stale copy of the same version in ~/.nuget/packages never masks a change.
# Usage: scripts/package-smoke-test.sh            (CI runs it; exits non-zero on the first failure)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export NUGET_PACKAGES="$work/nuget-cache" DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
packages="$work/packages"
version="$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$root/src/Directory.Build.props")"

echo "=== pack SelfAttention, SelfAttention.Transformers and SelfAttention.Cli $version ==="
dotnet pack "$root/src/SelfAttention/SelfAttention.csproj" -c Release -o "$packages" --nologo -v quiet
dotnet pack "$root/src/SelfAttention.Transformers/SelfAttention.Transformers.csproj" -c Release -o "$packages" --nologo -v quiet
dotnet pack "$root/src/SelfAttention.Cli/SelfAttention.Cli.csproj" -c Release -o "$packages" --nologo -v quiet
ls -l "$packages"

echo "=== package contents ==="
library="$packages/SelfAttention.$version.nupkg"
# (Listings go through variables: 'unzip | grep -q' can fail under pipefail when grep stops reading early.)
listing="$(unzip -l "$library")"
for entry in README.md LICENSE lib/net10.0/SelfAttention.dll lib/net10.0/SelfAttention.xml SelfAttention.nuspec; do
    grep -q " $entry\$" <<<"$listing" || { echo "missing in $(basename "$library"): $entry"; exit 1; }
done
test -f "$packages/SelfAttention.$version.snupkg" || { echo "missing symbols package SelfAttention.$version.snupkg"; exit 1; }
symbols="$(unzip -l "$packages/SelfAttention.$version.snupkg")"
grep -q "lib/net10.0/SelfAttention.pdb" <<<"$symbols" || { echo "no pdb in the symbols package"; exit 1; }
nuspec="$(unzip -p "$library" SelfAttention.nuspec)"
for field in '<license type="expression">MIT</license>' '<readme>README.md</readme>' '<repository type="git"' 'System.Numerics.Tensors' 'CommunityToolkit.HighPerformance'; do
    grep -qF "$field" <<<"$nuspec" || { echo "nuspec lacks $field"; echo "$nuspec"; exit 1; }
done
# The core package is attention and nothing else: the .npy reader, the tokenizers and the loaders live in the
# transformer package, and none of that package's dependencies reach the core.
if grep -qiE "FastBertTokenizer|Protobuf|OnnxSharp" <<<"$nuspec"; then
    echo "the core package depends on a transformer-layer package"; echo "$nuspec"; exit 1
fi
echo "library package: README, LICENSE, XML docs, symbols, license expression, repository, dependencies present"

transformers="$packages/SelfAttention.Transformers.$version.nupkg"
listing="$(unzip -l "$transformers")"
for entry in README.md LICENSE lib/net10.0/SelfAttention.Transformers.dll lib/net10.0/SelfAttention.Transformers.xml; do
    grep -q " $entry\$" <<<"$listing" || { echo "missing in $(basename "$transformers"): $entry"; exit 1; }
done
test -f "$packages/SelfAttention.Transformers.$version.snupkg" || { echo "missing symbols package SelfAttention.Transformers.$version.snupkg"; exit 1; }
nuspec="$(unzip -p "$transformers" SelfAttention.Transformers.nuspec)"
for field in '<license type="expression">MIT</license>' "<dependency id=\"SelfAttention\" version=\"$version\"" 'FastBertTokenizer' 'Google.Protobuf'; do
    grep -qF "$field" <<<"$nuspec" || { echo "nuspec lacks $field"; echo "$nuspec"; exit 1; }
done
echo "transformer package: README, LICENSE, XML docs, symbols, dependencies on SelfAttention $version and its packages present"

# The tool package: the tool, the library, the command-line layer, the transformer layer, their packages and the
# default model (all-MiniLM-L6-v2's model.onnx and vocab.txt); no benchmark code and no ONNX Runtime.
tool="$packages/SelfAttention.Cli.$version.nupkg"
tool_listing="$(unzip -Z1 "$tool")"
echo "tool package files:"
sed 's/^/  /' <<<"$tool_listing"
if grep -iE "comparison|benchmark|openblas|onnxruntime|mathnet" <<<"$tool_listing"; then
    echo "the tool package carries benchmark code or ONNX Runtime (above)"; exit 1
fi
for entry in tools/net10.0/any/models/all-MiniLM-L6-v2/model.onnx tools/net10.0/any/models/all-MiniLM-L6-v2/vocab.txt tools/net10.0/any/SelfAttention.Transformers.dll; do
    grep -qx "$entry" <<<"$tool_listing" || { echo "missing in the tool package: $entry"; exit 1; }
done
if unzip -p "$tool" tools/net10.0/any/SelfAttention.Cli.dll | grep -qa "SelfAttention.Comparison"; then
    echo "SelfAttention.Cli.dll references the benchmark harness"; exit 1
fi

echo "=== install the library into a scratch console project ==="
app="$work/app"
dotnet new console -o "$app" -n SmokeApp --no-restore >/dev/null
cat > "$app/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="local" value="$packages" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
  </packageSources>
</configuration>
XML
dotnet add "$app/SmokeApp.csproj" package SelfAttention --version "$version" >/dev/null
cat > "$app/Program.cs" <<'CS'
using CommunityToolkit.HighPerformance;
using SelfAttention;
using SelfAttention.Reference;

// "I love bears", unscaled, through the packaged library, checked against its own oracle.
float[,] x = { { 0.5f, 0.8f, 0.2f, 0.6f }, { 0.7f, 0.1f, 0.9f, 0.3f }, { 0.4f, 0.6f, 0.3f, 0.8f } };
var output = new float[3, 4];
var weights = new float[3, 3];
var expected = new float[3, 4];
var options = new AttentionOptions { Scale = 1f };
Attention.Compute(x, x, x, output, weights, options);
NaiveAttention.Compute(x, x, x, expected, options);
double worst = 0;
for (int i = 0; i < 3; i++)
    for (int c = 0; c < 4; c++)
        worst = Math.Max(worst, Math.Abs(output[i, c] - expected[i, c]));
Console.WriteLine($"weights[0, *] = {weights[0, 0]:0.0000} {weights[0, 1]:0.0000} {weights[0, 2]:0.0000}; largest difference from the oracle {worst:0.0e+0}");
return worst < 1e-5 && Math.Abs(weights[0, 0] - 0.3939) < 1e-4 ? 0 : 1;
CS
dotnet run --project "$app/SmokeApp.csproj" -c Release

echo "=== install the transformer layer into a scratch console project: .npy, tokenizers, the real model ==="
models="$work/models"
mkdir -p "$models/all-MiniLM-L6-v2"
unzip -q -j "$tool" 'tools/net10.0/any/models/all-MiniLM-L6-v2/*' -d "$models/all-MiniLM-L6-v2"
embed="$work/embed"
dotnet new console -o "$embed" -n SmokeEmbed --no-restore >/dev/null
cp "$app/nuget.config" "$embed/nuget.config"
dotnet add "$embed/SmokeEmbed.csproj" package SelfAttention.Transformers --version "$version" >/dev/null
# FastBertTokenizer normalises Unicode with ICU.
sed -i 's:<PropertyGroup>:<PropertyGroup><InvariantGlobalization>false</InvariantGlobalization>:' "$embed/SmokeEmbed.csproj"
cat > "$embed/Program.cs" <<'CS'
using SelfAttention.IO;
using SelfAttention.Tokenization;
using SelfAttention.Transformers;

// A .npy round trip and the teaching tokenizer, then two sentences through all-MiniLM-L6-v2.
string npy = Path.Combine(Path.GetTempPath(), $"smoke-{Environment.ProcessId}.npy");
Npy.WriteFile(npy, new float[] { 1, 2, 3, 4, 5, 6 }, [2, 3]);
NpyArray array = Npy.ReadFile(npy);
File.Delete(npy);
IReadOnlyList<string> words = new WordTokenizer().Split("I love bears.");
var embedder = SentenceEmbedder.Load(args[0]);
string[] sentences = ["A man is playing a guitar.", "Someone plays the guitar."];
var embeddings = new float[sentences.Length * embedder.Dimension];
embedder.Embed(sentences, embeddings);
float cosine = System.Numerics.Tensors.TensorPrimitives.Dot(embeddings.AsSpan(0, embedder.Dimension), embeddings.AsSpan(embedder.Dimension));
Console.WriteLine($".npy shape [{string.Join(", ", array.Shape)}], words {string.Join(' ', words)}, dim {embedder.Dimension}, cosine(guitar, guitar) {cosine:0.000}");
return array.Shape is [2, 3] && array.Data[5] == 6 && words.Count == 4 && embedder.Dimension == 384 && cosine > 0.6f ? 0 : 1;
CS
dotnet run --project "$embed/SmokeEmbed.csproj" -c Release -- "$models/all-MiniLM-L6-v2"

echo "=== install the tool from the local folder ==="
dotnet tool install SelfAttention.Cli --version "$version" --add-source "$packages" --tool-path "$work/tools" >/dev/null
"$work/tools/selfattention" --version
"$work/tools/selfattention" walkthrough --example 1 | sed -n '1,3p;/^Step 3/,/^Step 4/p'
"$work/tools/selfattention" heatmap --example 3 --out "$work/example3.svg"
"$work/tools/selfattention" embed "A man is playing a guitar." "Someone plays the guitar." | tail -n 4
"$work/tools/selfattention" completion bash | grep -q "complete -o default -F _selfattention_complete selfattention"
grep -q '<svg' "$work/example3.svg"
echo "package smoke test: OK"
