using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Yarp.Tunnels.Configuration;
using Yarp.Tunnels.FunctionalTests.Common;
using Yarp.Tunnels.FunctionalTests.Configuration;

namespace Yarp.Tunnels.FunctionalTests.Admin;

/// <summary>The admin endpoint of a host configured from a reloading JSON file: what it shows follows each edit.</summary>
public sealed class AdminReloadTests
{
    private const string PfxPassword = "pfx-Pass-8317";
    private const string BearerToken = "Bearer topsecret-4711";

    private static string Json(string listeners, string destinations, string admin = "127.0.0.1:0") => $$"""
        {
          "ReverseProxy": {
            "Admin": { "Address": "{{admin}}" },
            "Listeners": { {{listeners}} },
            "Routes": { "r1": { "ClusterId": "c1", "Match": { "Path": "/x" },
                                "Transforms": [ { "RequestHeader": "Authorization", "Set": "{{BearerToken}}" } ] } },
            "Clusters": { "c1": { "Destinations": { {{destinations}} } } }
          }
        }
        """;

    [Fact]
    public async Task ConfigDump_CertificatePasswordAndAuthorizationHeader_RedactedAndFollowsReload()
    {
        var directory = Directory.CreateTempSubdirectory("yarp-tunnels-admin");
        try
        {
            using var certificate = TestCertificates.CreateSelfSigned();
            var pfx = Path.Combine(directory.FullName, "cert.pfx");
            await File.WriteAllBytesAsync(pfx, certificate.Export(X509ContentType.Pfx, PfxPassword));
            var tls = $$"""
                "tls": { "Address": "tcp://127.0.0.1:0", "Protocols": "Http1AndHttp2",
                         "Certificate": { "Path": {{JsonSerializer.Serialize(pfx)}}, "Password": "{{PfxPassword}}" } }
                """;
            const string Destination = """ "d1": { "Address": "http://127.0.0.1:1" } """;
            await using var host = await JsonConfigHost.StartAsync(Json(tls, Destination));
            await host.App.WaitForListenerAsync("tls");
            using var admin = AdminClient(host);

            var dump = await admin.GetStringAsync("/config_dump");

            Assert.DoesNotContain(PfxPassword, dump, StringComparison.Ordinal);
            Assert.DoesNotContain("topsecret", dump, StringComparison.Ordinal);
            using (var json = JsonDocument.Parse(dump))
            {
                var root = json.RootElement;
                var listeners = root.GetProperty("listeners").EnumerateArray().ToDictionary(l => l.GetProperty("name").GetString()!);
                Assert.Equal(["admin", "tls"], listeners.Keys.Order());
                Assert.Equal(ConfigRedactorText, listeners["tls"].GetProperty("certificate").GetProperty("Password").GetString());
                Assert.Equal(pfx, listeners["tls"].GetProperty("certificate").GetProperty("Path").GetString());
                Assert.Equal(ConfigRedactorText, root.GetProperty("reverse_proxy").GetProperty("Listeners").GetProperty("tls").GetProperty("Certificate").GetProperty("Password").GetString());
                var transform = root.GetProperty("routes")[0].GetProperty("Transforms")[0];
                Assert.Equal(("Authorization", ConfigRedactorText), (transform.GetProperty("RequestHeader").GetString(), transform.GetProperty("Set").GetString()));
                Assert.Equal("http://127.0.0.1:1", root.GetProperty("clusters")[0].GetProperty("Destinations").GetProperty("d1").GetProperty("Address").GetString());
            }

            // A live edit: a listener added, the TLS one removed.
            await host.WriteAsync(Json(""" "plain": { "Address": "tcp://127.0.0.1:0" } """, Destination));
            await host.App.WaitForListenerAsync("plain");
            await ListenerReloadTests.WaitUntilAsync(async () => !(await admin.GetStringAsync("/listeners")).Contains("tls::", StringComparison.Ordinal), "tls gone from /listeners");

            Assert.Contains($"plain::127.0.0.1:{host.App.ListenerPort("plain")}", (await admin.GetStringAsync("/listeners")).Split('\n'));
            using var reloaded = JsonDocument.Parse(await admin.GetStringAsync("/config_dump"));
            Assert.Equal(["admin", "plain"], reloaded.RootElement.GetProperty("listeners").EnumerateArray().Select(l => l.GetProperty("name").GetString()).Order());
            Assert.False(reloaded.RootElement.GetProperty("reverse_proxy").GetProperty("Listeners").TryGetProperty("tls", out _));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Membership_DestinationsAddedAndRemoved_ChangeCountsAndTotalFollows()
    {
        const string Listener = """ "front": { "Address": "tcp://127.0.0.1:0" } """;
        await using var host = await JsonConfigHost.StartAsync(Json(Listener, """ "d1": { "Address": "http://127.0.0.1:1" } """));
        using var admin = AdminClient(host);
        Assert.Equal(("1", "1", "1"), await MembershipAsync(admin));

        await host.WriteAsync(Json(Listener, """ "d1": { "Address": "http://127.0.0.1:1" }, "d2": { "Address": "http://127.0.0.1:2" } """));
        await WaitForMembershipAsync(admin, ("2", "2", "2"));

        await host.WriteAsync(Json(Listener, """ "d2": { "Address": "http://127.0.0.1:2" } """));
        await WaitForMembershipAsync(admin, ("3", "1", "1"));
    }

    [Fact]
    public async Task AdminAddress_ChangedByReload_RebindsAndOldPortStops()
    {
        const string Listener = """ "front": { "Address": "tcp://127.0.0.1:0" } """;
        const string Destination = """ "d1": { "Address": "http://127.0.0.1:1" } """;
        await using var host = await JsonConfigHost.StartAsync(Json(Listener, Destination));
        var oldPort = host.App.ListenerPort("admin");
        var newPort = FreePort.Get();

        await host.WriteAsync(Json(Listener, Destination, $"127.0.0.1:{newPort}"));
        await ListenerReloadTests.WaitUntilAsync(() => host.App.Services.GetListeners().Any(l => l.Name == "admin" && l.State == ListenerState.Bound
            && l.Address == $"tcp://127.0.0.1:{newPort}"), "the admin rebound on the new port");

        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{newPort}"), Timeout = TestHost.Timeout };
        Assert.Equal("LIVE\n", await client.GetStringAsync("/ready"));
        await ListenerReloadTests.WaitUntilAsync(() => host.App.Services.GetListeners().Count(l => l.Name == "admin") == 1, "the old admin listener drained");
        Assert.NotEqual(oldPort, newPort);
    }

    private const string ConfigRedactorText = "[redacted]";

    private static HttpClient AdminClient(JsonConfigHost host) =>
        new() { BaseAddress = new Uri($"http://127.0.0.1:{host.App.ListenerPort("admin")}"), Timeout = TestHost.Timeout };

    private static async Task<(string Change, string Total, string Healthy)> MembershipAsync(HttpClient admin)
    {
        var stats = (await admin.GetStringAsync("/stats?filter=" + Uri.EscapeDataString(@"^cluster\.c1\.membership_"))).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(": ")).ToDictionary(p => p[0], p => p[1]);
        return (stats["cluster.c1.membership_change"], stats["cluster.c1.membership_total"], stats["cluster.c1.membership_healthy"]);
    }

    private static Task WaitForMembershipAsync(HttpClient admin, (string, string, string) expected) =>
        ListenerReloadTests.WaitUntilAsync(async () => await MembershipAsync(admin) == expected, () => $"membership (change, total, healthy) = {expected}");
}
