using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace SelfAttention.Cli.Walkthrough;

/// <summary>
/// Writes walkthrough examples as JSON for scripts, with the same steps and numbers as the text form:
/// <c>{"examples": [{"number", "title", "sentence", "steps": [{"title", "explanation", "matrices": [{"name",
/// "format", "isAttentionWeights", "rows", "columns", "values": [[…], …]}]}]}]}</c>. Values are the float32 results
/// (shortest round-trip form); a non-finite value is written as null. Written with <see cref="Utf8JsonWriter"/>,
/// no reflection, so it works under NativeAOT. Non-ASCII text (·, √, ᵀ) is written as is, not \u-escaped: the output is for scripts and terminals, never embedded in HTML.
/// </summary>
internal static class JsonRenderer
{
    public static void Write(IReadOnlyList<WalkthroughExample> examples, TextWriter output)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteStartArray("examples");
            foreach (var example in examples)
            {
                json.WriteStartObject();
                json.WriteNumber("number", example.Number);
                json.WriteString("title", example.Title);
                json.WriteString("sentence", example.Sentence);
                json.WriteStartArray("steps");
                foreach (var step in example.Steps)
                {
                    json.WriteStartObject();
                    json.WriteString("title", step.Title);
                    json.WriteString("explanation", step.Explanation);
                    json.WriteStartArray("matrices");
                    foreach (var matrix in step.Matrices)
                    {
                        WriteMatrix(json, matrix);
                    }

                    json.WriteEndArray();
                    json.WriteEndObject();
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        output.WriteLine(Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    private static void WriteMatrix(Utf8JsonWriter json, LabelledMatrix matrix)
    {
        json.WriteStartObject();
        json.WriteString("name", matrix.Name);
        json.WriteString("format", matrix.Format switch { CellFormat.Percent => "percent", CellFormat.Integer => "integer", _ => "number" });
        json.WriteBoolean("isAttentionWeights", matrix.IsAttentionWeights);
        WriteStrings(json, "rows", matrix.RowLabels);
        WriteStrings(json, "columns", matrix.ColumnLabels);
        json.WriteStartArray("values");
        for (int i = 0; i < matrix.Rows; i++)
        {
            json.WriteStartArray();
            for (int j = 0; j < matrix.Columns; j++)
            {
                float value = matrix[i, j];
                if (float.IsFinite(value))
                {
                    json.WriteNumberValue(value);
                }
                else
                {
                    json.WriteNullValue();
                }
            }

            json.WriteEndArray();
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WriteStrings(Utf8JsonWriter json, string name, IReadOnlyList<string> values)
    {
        json.WriteStartArray(name);
        foreach (string value in values)
        {
            json.WriteStringValue(value);
        }

        json.WriteEndArray();
    }
}
