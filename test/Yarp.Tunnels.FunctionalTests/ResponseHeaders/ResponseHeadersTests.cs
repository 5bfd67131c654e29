using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Yarp.Tunnels.FunctionalTests.Common;

namespace Yarp.Tunnels.FunctionalTests.ResponseHeaders;

/// <summary>
/// <c>ReverseProxy:ResponseHeaders</c> on a real gateway in front of a real backend: the <c>Server</c> header modes
/// (Envoy's <c>server_header_transformation</c>) on proxied and local answers, and the upstream service time.
/// </summary>
public class ResponseHeadersTests : IAsyncLifetime
{
    private const int SlowMilliseconds = 150;

    private WebApplication _backend = null!;

    public async Task InitializeAsync()
    {
        _backend = await TestHost.StartAsync(b =>
        {
            b.ListenLoopback();
            b.Services.Configure<KestrelServerOptions>(k => k.AddServerHeader = false);
        }, app =>
        {
            app.MapGet("/plain", () => "plain");
            app.MapGet("/named", (HttpContext c) =>
            {
                c.Response.Headers.Server = "backend-server";
                return "named";
            });
            app.MapGet("/chained", (HttpContext c) =>
            {
                c.Response.Headers["x-upstream-service-time"] = "999999";
                return "chained";
            });
            app.MapGet("/slow", async () =>
            {
                await Task.Delay(SlowMilliseconds);
                return "slow";
            });
        });
    }

    public async Task DisposeAsync() => await _backend.DisposeAsync();

    [Fact]
    public async Task Overwrite_ProxiedAndLocalAnswers_CarryTheConfiguredServer()
    {
        await using var gateway = await JsonConfigHost.StartAsync(Json("\"ServerName\": \"yarp-tunnels\", \"ServerHeaderTransformation\": \"Overwrite\""));
        using var client = Client(gateway);

        Assert.Equal(["yarp-tunnels"], await ServerAsync(client, "/named"));
        Assert.Equal(["yarp-tunnels"], await ServerAsync(client, "/plain"));
        Assert.Equal(["yarp-tunnels"], await ServerAsync(client, "/who"));
    }

    [Fact]
    public async Task AppendIfAbsent_UpstreamServerKept_OtherwiseAdded()
    {
        await using var gateway = await JsonConfigHost.StartAsync(Json("\"ServerName\": \"yarp-tunnels\", \"ServerHeaderTransformation\": \"AppendIfAbsent\""));
        using var client = Client(gateway);

        Assert.Equal(["backend-server"], await ServerAsync(client, "/named"));
        Assert.Equal(["yarp-tunnels"], await ServerAsync(client, "/plain"));
    }

    [Fact]
    public async Task PassThrough_UpstreamServerKept_NeverAdded_KestrelsOwnOff()
    {
        await using var gateway = await JsonConfigHost.StartAsync(Json("\"ServerHeaderTransformation\": \"PassThrough\""));
        using var client = Client(gateway);

        Assert.Equal(["backend-server"], await ServerAsync(client, "/named"));
        Assert.Empty(await ServerAsync(client, "/plain"));
        Assert.Empty(await ServerAsync(client, "/who"));
    }

    [Fact]
    public async Task NotConfigured_KestrelDefaultsStay_NoUpstreamTime()
    {
        await using var gateway = await JsonConfigHost.StartAsync(Json(null));
        using var client = Client(gateway);

        using var response = await client.GetAsync("/plain");
        Assert.Equal(["Kestrel"], response.Headers.Server.Select(s => s.ToString()));
        Assert.False(response.Headers.Contains("x-upstream-service-time"));
    }

    [Fact]
    public async Task UpstreamServiceTime_SlowBackend_AtLeastItsDelayInWholeMilliseconds()
    {
        await using var gateway = await JsonConfigHost.StartAsync(Json("\"UpstreamServiceTimeHeader\": \"x-envoy-upstream-service-time\""));
        using var client = Client(gateway);

        using var response = await client.GetAsync("/slow");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var value = Assert.Single(response.Headers.GetValues("x-envoy-upstream-service-time"));
        Assert.True(long.Parse(value, NumberStyles.None, CultureInfo.InvariantCulture) >= SlowMilliseconds, value);

        // A local answer was never sent upstream: no time.
        using var local = await client.GetAsync("/who");
        Assert.False(local.Headers.Contains("x-envoy-upstream-service-time"));
    }

    [Fact]
    public async Task UpstreamServiceTime_UpstreamGatewaySetOne_ReplacedNotAppended()
    {
        await using var gateway = await JsonConfigHost.StartAsync(Json("\"UpstreamServiceTimeHeader\": \"x-upstream-service-time\""));
        using var client = Client(gateway);

        using var response = await client.GetAsync("/chained");
        var value = Assert.Single(response.Headers.GetValues("x-upstream-service-time"));
        Assert.NotEqual("999999", value);
    }

    [Fact]
    public async Task Reload_NewNameAndHeader_ApplyLive_InvalidReloadKeepsThem()
    {
        await using var gateway = await JsonConfigHost.StartAsync(Json("\"ServerName\": \"first\", \"UpstreamServiceTimeHeader\": \"x-first-time\""));
        using var client = Client(gateway);
        Assert.Equal(["first"], await ServerAsync(client, "/plain"));

        await gateway.WriteAsync(Json("\"ServerName\": \"second\", \"UpstreamServiceTimeHeader\": \"x-second-time\""));
        using (var response = await WaitForServerAsync(client, "second"))
        {
            Assert.True(response.Headers.Contains("x-second-time"));
            Assert.False(response.Headers.Contains("x-first-time"));
        }

        await gateway.WriteAsync(Json("\"ServerName\": \"third\", \"UpstreamServiceTimeHeader\": \"not a header\""));
        await WaitForErrorAsync(gateway, "UpstreamServiceTimeHeader 'not a header' is not a valid header name");
        Assert.Equal(["second"], await ServerAsync(client, "/plain"));
    }

    [Fact]
    public async Task Start_InvalidSettings_FailsNamingEveryError()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() =>
            JsonConfigHost.StartAsync(Json("\"ServerHeaderTransformation\": \"Sometimes\", \"UpstreamServiceTimeHeader\": \"a:b\"")));

        // One exception lists every error of the Yarp.Tunnels configuration (YARP's first load may wrap it).
        var invalid = Assert.Single(Chain(error), e => e.Message.StartsWith("The Yarp.Tunnels configuration is invalid:", StringComparison.Ordinal));
        Assert.Contains("ResponseHeaders: ServerHeaderTransformation 'Sometimes' is not one of", invalid.Message, StringComparison.Ordinal);
        Assert.Contains("ResponseHeaders: UpstreamServiceTimeHeader 'a:b' is not a valid header name", invalid.Message, StringComparison.Ordinal);
    }

    private string Json(string? responseHeaders) => $$"""
        {
          "ReverseProxy": {
            "Listeners": { "front": { "Address": "tcp://127.0.0.1:0" } },
            {{(responseHeaders is null ? "" : $"\"ResponseHeaders\": {{ {responseHeaders} }},")}}
            "Routes": { "backend": { "ClusterId": "backend", "Match": { "Path": "/{name:regex(^(plain|named|chained|slow)$)}" } } },
            "Clusters": { "backend": { "Destinations": { "d1": { "Address": "{{TestHost.Address(_backend)}}" } } } }
          }
        }
        """;

    private static IEnumerable<Exception> Chain(Exception? exception)
    {
        for (; exception is not null; exception = exception.InnerException)
        {
            yield return exception;
        }
    }

    private static HttpClient Client(JsonConfigHost gateway) =>
        new() { BaseAddress = new Uri($"http://127.0.0.1:{gateway.App.ListenerPort("front")}"), Timeout = TestHost.Timeout };

    private static async Task<string[]> ServerAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response.Headers.TryGetValues("Server", out var values) ? [.. values] : [];
    }

    private static async Task<HttpResponseMessage> WaitForServerAsync(HttpClient client, string expected)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var response = await client.GetAsync("/plain");
            var server = response.Headers.TryGetValues("Server", out var values) ? string.Join(",", values) : "";
            if (server == expected)
            {
                return response;
            }
            response.Dispose();
            Assert.True(DateTime.UtcNow < deadline, $"Server is still '{server}', expected '{expected}' after the reload.");
            await Task.Delay(50);
        }
    }

    private static async Task WaitForErrorAsync(JsonConfigHost gateway, string text)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!gateway.Errors.Messages.Any(m => m.Contains(text, StringComparison.Ordinal)))
        {
            Assert.True(DateTime.UtcNow < deadline, $"No error logged containing '{text}'; logged: {string.Join(" | ", gateway.Errors.Messages)}");
            await Task.Delay(50);
        }
    }
}
