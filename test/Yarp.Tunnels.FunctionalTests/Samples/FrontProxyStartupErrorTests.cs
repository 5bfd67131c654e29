using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Yarp.Tunnels.FunctionalTests.Common;

namespace Yarp.Tunnels.FunctionalTests.Samples;

/// <summary>Bad start-up input makes the FrontProxy sample exit non-zero with one line naming the problem, no stack trace.</summary>
public class FrontProxyStartupErrorTests
{
    [Fact]
    public async Task PortInUse_ExitsNamingTheListenerAndAddress()
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen();
        var port = ((IPEndPoint)taken.LocalEndPoint!).Port;

        var line = await RunFailingAsync([.. FrontProxySample.EphemeralPorts, $"--ReverseProxy:Listeners:front_http:Address=tcp://127.0.0.1:{port}"]);

        Assert.Contains($"Listener 'front_http' could not bind tcp://127.0.0.1:{port}", line, StringComparison.Ordinal);
        Assert.Contains("address already in use", line, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task UnreadableCertificate_ExitsNamingTheFile()
    {
        var path = Path.Combine(Path.GetTempPath(), $"yarp-tunnels-not-a-certificate-{Guid.NewGuid():N}.pfx");
        await File.WriteAllTextAsync(path, "not a certificate");
        try
        {
            var line = await RunFailingAsync([.. FrontProxySample.EphemeralPorts, $"--ReverseProxy:Listeners:front_https:Certificate:Path={path}"]);

            Assert.Contains($"Listener 'front_https': Certificate '{path}' could not be loaded", line, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task MalformedAppsettings_ExitsNamingTheFileAndPosition()
    {
        var directory = Directory.CreateTempSubdirectory("yarp-tunnels-frontproxy");
        try
        {
            var settings = Path.Combine(directory.FullName, "appsettings.json");
            await File.WriteAllTextAsync(settings, "{ \"ReverseProxy\": { \"Listeners\": ,\n");

            var line = await RunFailingAsync([], directory.FullName);

            Assert.Contains($"Failed to load configuration from file '{settings}'", line, StringComparison.Ordinal);
            Assert.Contains("LineNumber: 0", line, StringComparison.Ordinal);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task UnknownRole_ExitsNamingTheRoles()
    {
        var line = await RunFailingAsync(["--role", "backend"]);

        Assert.Equal("FrontProxy: cannot start: unknown role 'backend' (--role takes front, sidecar or service; without it the whole topology runs in this process)", line);
    }

    /// <summary>Runs the sample to its exit; asserts a non-zero code and one error line, no stack trace; returns that line.</summary>
    private static async Task<string> RunFailingAsync(string[] arguments, string? workingDirectory = null)
    {
        using var sample = FrontProxySample.Start(arguments, workingDirectory: workingDirectory);
        var exitCode = await sample.WaitForExitAsync();
        var output = sample.Output;

        Assert.True(exitCode != 0, $"exit code {exitCode}:{Environment.NewLine}{output}");
        Assert.DoesNotMatch(new Regex(@"^\s+at ", RegexOptions.Multiline), output);
        Assert.DoesNotContain("fail:", output, StringComparison.Ordinal);
        Assert.DoesNotContain("crit:", output, StringComparison.Ordinal);
        var lines = output.Split('\n').Where(l => l.Contains("cannot start", StringComparison.Ordinal)).ToList();
        return Assert.Single(lines).TrimEnd('\r');
    }
}
