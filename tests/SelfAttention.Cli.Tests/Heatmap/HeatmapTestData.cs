using System.Xml.Linq;
using SelfAttention.Cli.Heatmap;

namespace SelfAttention.Cli.Tests.Heatmap;

/// <summary>Panels to render and helpers to read the SVG back.</summary>
internal static class HeatmapTestData
{
    public static readonly XNamespace Svg = "http://www.w3.org/2000/svg";
    public static readonly XNamespace XLink = "http://www.w3.org/1999/xlink";

    /// <summary>Rows of deterministic pseudo-random weights, each row summing to 1 (like softmax output).</summary>
    public static float[] Weights(int rows, int columns, int seed)
    {
        var random = new Random(seed);
        var values = new float[rows * columns];
        for (int i = 0; i < rows; i++)
        {
            double rowSum = 0;
            for (int j = 0; j < columns; j++)
            {
                double e = Math.Exp(3 * random.NextDouble());
                values[(i * columns) + j] = (float)e;
                rowSum += e;
            }

            for (int j = 0; j < columns; j++)
            {
                values[(i * columns) + j] = (float)(values[(i * columns) + j] / rowSum);
            }
        }

        return values;
    }

    /// <summary>Labels "t0", "t1", ….</summary>
    public static string[] Tokens(int count) => Enumerable.Range(0, count).Select(k => $"t{k}").ToArray();

    /// <summary>One head of <paramref name="rows"/> × <paramref name="columns"/> weights.</summary>
    public static HeatmapPanel Panel(int rows, int columns, int seed = 1, string title = "head 0") =>
        new(title, Tokens(rows), Tokens(columns), Weights(rows, columns, seed));

    /// <summary>Parses <paramref name="svg"/>; throws unless it is well-formed XML.</summary>
    public static XDocument Parse(string svg) => XDocument.Parse(svg);

    /// <summary>The element with <c>id="<paramref name="id"/>"</c>.</summary>
    public static XElement ById(XDocument document, string id) =>
        document.Descendants().Single(e => (string?)e.Attribute("id") == id);

    /// <summary>The cell rects of panel <paramref name="panel"/> (vector panels only).</summary>
    public static List<XElement> CellRects(XDocument document, int panel) =>
        ById(document, $"sa-panel-{panel}-cells").Elements(Svg + "rect").ToList();

    /// <summary>The text of every <c>&lt;text&gt;</c> element in <paramref name="scope"/>.</summary>
    public static List<string> Texts(XContainer scope) => scope.Descendants(Svg + "text").Select(t => t.Value).ToList();
}
