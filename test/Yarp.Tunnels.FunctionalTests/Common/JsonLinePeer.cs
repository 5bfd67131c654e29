using System.Text.Json;

namespace Yarp.Tunnels.FunctionalTests.Common;

/// <summary>
/// A peer process (a script under <c>Interop/</c>) that prints <c>{"port": N}</c> once listening on 127.0.0.1 and then
/// one JSON object per line for what it saw. Disposing kills it.
/// </summary>
internal sealed class JsonLinePeer : IDisposable
{
    private static readonly TimeSpan LineTimeout = TimeSpan.FromSeconds(15);

    private readonly ToolProcess _process;
    private readonly string _name;

    private JsonLinePeer(ToolProcess process, string name, int port)
    {
        _process = process;
        _name = name;
        Port = port;
    }

    public int Port { get; }

    public string Output => _process.Output;

    public static async Task<JsonLinePeer> StartAsync(string tool, params string[] arguments)
    {
        var process = ToolProcess.StartBackground(tool, arguments);
        var name = Path.GetFileName(arguments.FirstOrDefault() ?? tool);
        try
        {
            var first = await WaitForLineAsync(process, name, line => line.StartsWith("{\"port\"", StringComparison.Ordinal));
            return new JsonLinePeer(process, name, first.GetProperty("port").GetInt32());
        }
        catch
        {
            process.Dispose();
            throw;
        }
    }

    /// <summary>The first line (parsed) that has property <paramref name="property"/> and satisfies <paramref name="match"/>.</summary>
    public Task<JsonElement> WaitForAsync(string property, Func<JsonElement, bool>? match = null) =>
        WaitForLineAsync(_process, _name, line => line.Contains($"\"{property}\"", StringComparison.Ordinal), match, property);

    /// <summary>Every parsed line so far that has property <paramref name="property"/>.</summary>
    public IReadOnlyList<JsonElement> Lines(string property) =>
        Parse(_process.Output).Where(e => e.TryGetProperty(property, out _)).ToList();

    private static async Task<JsonElement> WaitForLineAsync(ToolProcess process, string name, Func<string, bool> prefilter,
        Func<JsonElement, bool>? match = null, string? property = null)
    {
        var deadline = DateTime.UtcNow + LineTimeout;
        while (true)
        {
            foreach (var element in Parse(process.Output, prefilter))
            {
                if ((property is null || element.TryGetProperty(property, out _)) && (match is null || match(element)))
                {
                    return element;
                }
            }
            Assert.False(process.HasExited, $"{name} exited:{Environment.NewLine}{process.Output}");
            Assert.True(DateTime.UtcNow < deadline, $"{name} did not print the expected line within {LineTimeout.TotalSeconds} s:{Environment.NewLine}{process.Output}");
            await Task.Delay(20);
        }
    }

    private static IEnumerable<JsonElement> Parse(string output, Func<string, bool>? prefilter = null)
    {
        foreach (var raw in output.Split('\n'))
        {
            var line = raw.Trim();
            if (!line.StartsWith('{') || (prefilter is not null && !prefilter(line)))
            {
                continue;
            }
            JsonElement element;
            try
            {
                using var document = JsonDocument.Parse(line);
                element = document.RootElement.Clone();
            }
            catch (JsonException)
            {
                continue;
            }
            yield return element;
        }
    }

    public void Dispose() => _process.Dispose();
}
