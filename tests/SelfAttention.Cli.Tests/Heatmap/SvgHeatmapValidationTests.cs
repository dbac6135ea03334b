using SelfAttention.Cli.Heatmap;
using Xunit;
using static SelfAttention.Cli.Tests.Heatmap.HeatmapTestData;

namespace SelfAttention.Cli.Tests.Heatmap;

public sealed class SvgHeatmapValidationTests
{
    [Fact]
    public void Render_NoPanels_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => SvgHeatmap.Render([]));
        Assert.Equal("panels", e.ParamName);
        Assert.Contains("expected at least 1 panel, actual 0", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_NullPanels_Throws() =>
        Assert.Equal("panels", Assert.Throws<ArgumentNullException>(() => SvgHeatmap.Render(null!)).ParamName);

    [Theory]
    [InlineData(11)]
    [InlineData(13)]
    [InlineData(0)]
    public void Render_ValuesNotRowsTimesColumns_ThrowsWithExpectedAndActual(int length)
    {
        var bad = new HeatmapPanel("head 1", Tokens(3), Tokens(4), new float[length]);

        var e = Assert.Throws<ArgumentException>(() => SvgHeatmap.Render([Panel(2, 2), bad]));

        Assert.Equal("panels", e.ParamName);
        Assert.Contains($"panels[1].Values.Length: expected 12 (3 row labels × 4 column labels), actual {length}.", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, 3)]
    [InlineData(3, 0)]
    public void Render_EmptyPanel_Throws(int rows, int columns)
    {
        var e = Assert.Throws<ArgumentException>(() => SvgHeatmap.Render([new HeatmapPanel("h", Tokens(rows), Tokens(columns), [])]));
        Assert.Equal("panels", e.ParamName);
        Assert.Contains($"actual {rows} × {columns}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_NullLabel_Throws()
    {
        var e = Assert.Throws<ArgumentException>(() => SvgHeatmap.Render([new HeatmapPanel("h", ["a", null!], ["b"], [0f, 1f])]));
        Assert.Contains("panels[0].RowLabels", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, 1200, "options.MaxColumnsPerRow: expected at least 1, actual 0.")]
    [InlineData(4, 63, "options.MaxPanelSize: expected at least 64 px, actual 63.")]
    public void Render_OptionOutOfRange_Throws(int columnsPerRow, int panelSize, string message)
    {
        var options = new HeatmapOptions { MaxColumnsPerRow = columnsPerRow, MaxPanelSize = panelSize };

        var e = Assert.Throws<ArgumentOutOfRangeException>(() => SvgHeatmap.Render([Panel(2, 2)], options));

        Assert.Equal("options", e.ParamName);
        Assert.StartsWith(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_NullOptions_UsesTheDefaults() =>
        Assert.Equal(SvgHeatmap.Render([Panel(2, 2)], HeatmapOptions.Default), SvgHeatmap.Render([Panel(2, 2)], null));
}
