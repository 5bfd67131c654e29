using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Yarp.Tunnels.FunctionalTests.Common;
using Yarp.Tunnels.InternalListeners;
using Yarp.Tunnels.Upgrades;

namespace Yarp.Tunnels.FunctionalTests.Upgrades;

/// <summary>What the upgrade backend saw of one request, and the bytes it received after accepting it.</summary>
internal sealed record ReceivedUpgrade(string Method, string PathAndQuery, string Protocol, string? Token, IReadOnlyDictionary<string, string> Headers)
{
    public MemoryStream Bytes { get; } = new();

    public string Text
    {
        get
        {
            lock (Bytes)
            {
                return Encoding.ASCII.GetString(Bytes.ToArray());
            }
        }
    }
}

/// <summary>
/// A Kestrel backend for custom upgrade tokens. <c>/refuse/{status}</c> answers that status with a body, <c>/hang</c>
/// never answers; anything else
/// accepts the upgrade (101 on HTTP/1.1, 200 to an extended CONNECT), writes one greeting line
/// (<c>method path protocol token</c>), echoes every byte and, after the client's end of stream or a <c>quit</c>, writes
/// <c>bye</c> and ends.
/// </summary>
internal sealed class UpgradeForwarderBackend : IAsyncDisposable
{
    private UpgradeForwarderBackend(WebApplication app, ConcurrentQueue<ReceivedUpgrade> received)
    {
        App = app;
        Received = received;
    }

    public WebApplication App { get; }

    public ConcurrentQueue<ReceivedUpgrade> Received { get; }

    public string Address => TestHost.Address(App).ToString().TrimEnd('/');

    /// <summary>Starts the backend on a loopback port, over TLS (ALPN from <paramref name="protocols"/>) with a <paramref name="certificate"/>.</summary>
    public static async Task<UpgradeForwarderBackend> StartAsync(HttpProtocols protocols, X509Certificate2? certificate = null)
    {
        var received = new ConcurrentQueue<ReceivedUpgrade>();
        var app = await TestHost.StartAsync(
            b => b.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o =>
            {
                o.Protocols = protocols;
                if (certificate is not null)
                {
                    o.UseHttps(certificate);
                }
            })),
            app => app.Run(c => ServeAsync(c, received)));
        return new UpgradeForwarderBackend(app, received);
    }

    private static async Task ServeAsync(HttpContext context, ConcurrentQueue<ReceivedUpgrade> received)
    {
        var request = context.Request;
        var upgradeFeature = context.Features.Get<IHttpUpgradeFeature>();
        var connectFeature = context.Features.Get<IHttpExtendedConnectFeature>();
        var token = connectFeature?.IsExtendedConnect == true ? connectFeature.Protocol : request.Headers.Upgrade.ToString();
        var record = new ReceivedUpgrade(request.Method, request.Path + request.QueryString, request.Protocol, token,
            request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase));
        received.Enqueue(record);

        if (request.Path.StartsWithSegments("/refuse", out var rest))
        {
            context.Response.StatusCode = int.Parse(rest.Value!.TrimStart('/'), System.Globalization.CultureInfo.InvariantCulture);
            context.Response.Headers["x-refused"] = "yes";
            await context.Response.WriteAsync("refused by backend");
            return;
        }

        if (request.Path.StartsWithSegments("/hang"))
        {
            await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(static _ => { }, TaskScheduler.Default);
            return;
        }

        Stream stream;
        if (upgradeFeature?.IsUpgradableRequest == true)
        {
            context.Response.Headers.Upgrade = request.Headers.Upgrade;
            stream = await upgradeFeature.UpgradeAsync();
        }
        else if (connectFeature?.IsExtendedConnect == true)
        {
            stream = await connectFeature.AcceptAsync();
        }
        else
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        await using (stream)
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"{record.Method} {record.PathAndQuery} {record.Protocol} {token}\n"));
            await stream.FlushAsync();
            var buffer = new byte[16 * 1024];
            int read;
            try
            {
                while ((read = await stream.ReadAsync(buffer, context.RequestAborted)) > 0)
                {
                    lock (record.Bytes)
                    {
                        record.Bytes.Write(buffer, 0, read);
                    }
                    await stream.WriteAsync(buffer.AsMemory(0, read));
                    await stream.FlushAsync();
                    if (record.Text.EndsWith("quit", StringComparison.Ordinal))
                    {
                        break;
                    }
                }
                await stream.WriteAsync("bye\n"u8.ToArray());
                await stream.FlushAsync();
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException)
            {
            }
        }
    }

    public ValueTask DisposeAsync() => App.DisposeAsync();
}

/// <summary>
/// Gateways as an application builds them: <c>LoadFromConfig(section).AddTunnels(section, registry)</c> and
/// <c>MapTunnelsReverseProxy()</c>, one catch-all route, the upgrade tokens <c>foo</c> and <c>websocket</c> allowed.
/// </summary>
internal static class UpgradeForwarderGateway
{
    public const string UpgradesActive = "http.default.downstream_cx_upgrades_active";
    public const string UpgradesTotal = "http.default.downstream_cx_upgrades_total";

    /// <summary>
    /// A gateway forwarding to <paramref name="destination"/> with the cluster's HTTP <paramref name="version"/> (exact;
    /// null: YARP's default, 2.0 or lower), listening on a loopback port (<paramref name="protocols"/>) or, with
    /// <paramref name="internalName"/>, on that internal listener. Backends' certificates are not validated.
    /// </summary>
    public static Task<WebApplication> StartAsync(InternalListenerRegistry registry, string destination, string? version,
        HttpProtocols protocols = HttpProtocols.Http1, string? internalName = null, string? activityTimeout = null)
    {
        var section = TunnelsTestHost.Section(new Dictionary<string, string?>
        {
            ["Upgrades:0:UpgradeType"] = "foo",
            ["Upgrades:1:UpgradeType"] = "websocket",
            ["Routes:all:ClusterId"] = "backend",
            ["Routes:all:Match:Path"] = "/{**catch-all}",
            ["Clusters:backend:Destinations:d1:Address"] = destination,
            ["Clusters:backend:HttpRequest:Version"] = version,
            ["Clusters:backend:HttpRequest:VersionPolicy"] = version is null ? null : "RequestVersionExact",
            ["Clusters:backend:HttpClient:DangerousAcceptAnyServerCertificate"] = "true",
            ["Clusters:backend:HttpRequest:ActivityTimeout"] = activityTimeout,
        });
        return TestHost.StartAsync(b =>
        {
            b.WebHost.ConfigureKestrel(k =>
            {
                if (internalName is null)
                {
                    k.Listen(IPAddress.Loopback, 0, o => o.Protocols = protocols);
                }
                else
                {
                    k.ListenInternal(internalName, configure: o => o.Protocols = protocols);
                }
            });
            b.Services.AddReverseProxy().LoadFromConfig(section).AddTunnels(section, registry);
        }, app => app.MapTunnelsReverseProxy());
    }
}

/// <summary>A raw HTTP/1.1 client on a socket: writes bytes, reads a response head and exact byte counts, bounded in time.</summary>
internal sealed class RawHttpClient : IAsyncDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly MemoryStream _pending = new();
    private readonly CancellationToken _timeout = TestHost.TimeoutToken();

    public static async Task<RawHttpClient> ConnectAsync(Uri address)
    {
        var client = new RawHttpClient();
        await client._socket.ConnectAsync(IPAddress.Loopback, address.Port, client._timeout);
        return client;
    }

    public async Task SendAsync(string text) => await _socket.SendAsync(Encoding.ASCII.GetBytes(text), SocketFlags.None, _timeout);

    public void ShutdownWrite() => _socket.Shutdown(SocketShutdown.Send);

    /// <summary>Reads up to and including the blank line that ends a response head.</summary>
    public async Task<string> ReadHeadAsync()
    {
        while (true)
        {
            var text = Encoding.ASCII.GetString(_pending.GetBuffer(), 0, (int)_pending.Length);
            var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end >= 0)
            {
                Consume(end + 4);
                return text[..(end + 4)];
            }
            if (!await FillAsync())
            {
                throw new IOException($"The connection ended inside a response head: '{text}'.");
            }
        }
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes as ASCII.</summary>
    public async Task<string> ReadAsync(int count)
    {
        while (_pending.Length < count)
        {
            if (!await FillAsync())
            {
                throw new IOException($"The connection ended after {_pending.Length} of {count} bytes.");
            }
        }
        var text = Encoding.ASCII.GetString(_pending.GetBuffer(), 0, count);
        Consume(count);
        return text;
    }

    /// <summary>Reads everything until the peer closes.</summary>
    public async Task<string> ReadToEndAsync()
    {
        while (await FillAsync())
        {
        }
        var text = Encoding.ASCII.GetString(_pending.GetBuffer(), 0, (int)_pending.Length);
        Consume((int)_pending.Length);
        return text;
    }

    private async Task<bool> FillAsync()
    {
        var buffer = new byte[16 * 1024];
        int read;
        try
        {
            read = await _socket.ReceiveAsync(buffer, SocketFlags.None, _timeout);
        }
        catch (SocketException)
        {
            return false;
        }
        _pending.Write(buffer, 0, read);
        return read > 0;
    }

    private void Consume(int count)
    {
        var rest = _pending.GetBuffer().AsSpan(count, (int)_pending.Length - count).ToArray();
        _pending.SetLength(0);
        _pending.Write(rest);
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return default;
    }
}

/// <summary>
/// A raw TCP backend for one upgrade: reads a request head, answers <c>101</c> for <c>foo</c>, then records every byte it
/// receives until end of stream or reset, which completes <see cref="Ended"/>; <see cref="CloseAsync"/> closes its side.
/// </summary>
internal sealed class RawUpgradeBackend : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly MemoryStream _received = new();
    private readonly TaskCompletionSource<Socket> _accepted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<string> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationToken _timeout = TestHost.TimeoutToken();
    private readonly TaskCompletionSource<string> _head = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly bool _echo;
    private readonly string _response;

    private RawUpgradeBackend(bool echo, string? response)
    {
        _echo = echo;
        _response = response ?? "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: foo\r\n\r\n";
        _listener.Start();
        _ = ServeAsync();
    }

    /// <param name="echo">Sends back every byte received after the 101 (after the gateway's FIN, it keeps its own side open).</param>
    /// <param name="response">What it answers the request head with, in one write (default: a 101 for <c>foo</c>).</param>
    public static RawUpgradeBackend Start(bool echo = false, string? response = null) => new(echo, response);

    /// <summary>The request head the gateway sent (up to the blank line).</summary>
    public Task<string> Head => _head.Task.WaitAsync(_timeout);

    public string Address => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    /// <summary>"eof" or "reset" once the gateway's upstream connection ended; faults if it did not in time.</summary>
    public Task<string> Ended => _ended.Task.WaitAsync(_timeout);

    /// <summary>The bytes received after the 101 (complete once <see cref="Ended"/> is).</summary>
    public string Received
    {
        get
        {
            lock (_received)
            {
                return Encoding.ASCII.GetString(_received.ToArray());
            }
        }
    }

    /// <summary>Waits until the bytes received after the 101 are <paramref name="text"/>.</summary>
    public async Task WaitForReceivedAsync(string text)
    {
        while (Received != text)
        {
            Assert.False(_timeout.IsCancellationRequested || _ended.Task.IsCompleted, $"The backend received '{Received}', not '{text}'.");
            await Task.Delay(20);
        }
    }

    /// <summary>Closes the backend's side of the upgraded connection (FIN).</summary>
    public async Task CloseAsync() => (await _accepted.Task.WaitAsync(_timeout)).Shutdown(SocketShutdown.Send);

    private async Task ServeAsync()
    {
        try
        {
            var socket = await _listener.AcceptSocketAsync(_timeout);
            _accepted.SetResult(socket);
            var head = new StringBuilder();
            var buffer = new byte[16 * 1024];
            while (true)
            {
                var read = await socket.ReceiveAsync(buffer, SocketFlags.None, _timeout);
                if (read == 0)
                {
                    _ended.SetResult("eof");
                    return;
                }
                var text = head.Append(Encoding.ASCII.GetString(buffer, 0, read)).ToString();
                var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
                if (end >= 0)
                {
                    _head.SetResult(text[..(end + 4)]);
                    Record(Encoding.ASCII.GetBytes(text[(end + 4)..]));
                    break;
                }
            }
            await socket.SendAsync(Encoding.ASCII.GetBytes(_response), SocketFlags.None, _timeout);
            while (true)
            {
                int read;
                try
                {
                    read = await socket.ReceiveAsync(buffer, SocketFlags.None, _timeout);
                }
                catch (SocketException)
                {
                    _ended.SetResult("reset");
                    return;
                }
                if (read == 0)
                {
                    _ended.SetResult("eof");
                    return;
                }
                Record(buffer.AsSpan(0, read).ToArray());
                if (_echo)
                {
                    await socket.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _timeout);
                }
            }
        }
        catch (Exception ex)
        {
            _head.TrySetException(ex);
            _ended.TrySetException(ex);
        }
    }

    private void Record(byte[] bytes)
    {
        lock (_received)
        {
            _received.Write(bytes);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        if (_accepted.Task.IsCompletedSuccessfully)
        {
            (await _accepted.Task).Dispose();
        }
    }
}
