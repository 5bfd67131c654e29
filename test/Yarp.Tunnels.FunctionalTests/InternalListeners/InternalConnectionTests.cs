using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Yarp.Tunnels.FunctionalTests.Common;
using Yarp.Tunnels.InternalListeners;
using Yarp.Tunnels.Telemetry;

namespace Yarp.Tunnels.FunctionalTests.InternalListeners;

// Runs alone: one test counts the process's sockets.
[Collection(NonParallelCollection.Name)]
public class InternalConnectionTests
{
    private static Task<WebApplication> StartRawAsync(InternalListenerRegistry registry, string name, Func<ConnectionContext, Task> handler,
        int bufferSizeKb = InternalEndPoint.DefaultBufferSizeKb) =>
        TestHost.StartAsync(b =>
        {
            b.WebHost.UseInternalListeners(registry);
            b.WebHost.ConfigureKestrel(k => k.ListenInternal(name, bufferSizeKb, o => o.Run(handler)));
        }, _ => { });

    private static async Task<byte[]> ReadToEndAsync(PipeReader input, CancellationToken cancellationToken)
    {
        var received = new MemoryStream();
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken);
            foreach (var segment in result.Buffer)
            {
                received.Write(segment.Span);
            }
            input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return received.ToArray();
            }
        }
    }

    private static async Task<byte[]> ReadToEndAsync(Stream stream, CancellationToken cancellationToken)
    {
        var received = new MemoryStream();
        await stream.CopyToAsync(received, cancellationToken);
        return received.ToArray();
    }

    private static async Task EchoAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        var output = connection.Transport.Output;
        while (true)
        {
            var result = await input.ReadAsync();
            foreach (var segment in result.Buffer)
            {
                await output.WriteAsync(segment);
            }
            input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                break;
            }
        }
        await output.CompleteAsync();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private static TaskCompletionSource<T> NewSignal<T>() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [Fact]
    public async Task CompleteWrites_ServerReadsToEofThenReplies_ClientReadsReplyThenEof()
    {
        var registry = new InternalListenerRegistry();
        var received = NewSignal<byte[]>();
        var outputCompleted = NewSignal();
        var release = NewSignal();
        await using var host = await StartRawAsync(registry, "half", async connection =>
        {
            var data = await ReadToEndAsync(connection.Transport.Input, TestHost.TimeoutToken());
            received.TrySetResult(data);
            await connection.Transport.Output.WriteAsync(Encoding.ASCII.GetBytes($"got {data.Length} bytes"));
            await connection.Transport.Output.CompleteAsync();
            outputCompleted.TrySetResult();
            // Stay open: the client's end-of-stream must come from the completed output, not from the connection closing.
            await release.Task;
        }, bufferSizeKb: 4);

        try
        {
            using var stream = registry.Connect("half");
            var payload = RandomNumberGenerator.GetBytes(100 * 1024);
            await stream.WriteAsync(payload, TestHost.TimeoutToken());
            Assert.False(received.Task.IsCompleted, "the server saw end-of-stream before the client completed its writes");
            stream.CompleteWrites();

            Assert.Equal(payload, await received.Task.WaitAsync(TestHost.Timeout));
            var reply = await ReadToEndAsync(stream, TestHost.TimeoutToken()).WaitAsync(TestHost.Timeout);
            Assert.Equal("got 102400 bytes", Encoding.ASCII.GetString(reply));
            Assert.True(outputCompleted.Task.IsCompleted);
            Assert.Equal(0, await stream.ReadAsync(new byte[16], TestHost.TimeoutToken()));
        }
        finally
        {
            release.TrySetResult();
        }
    }

    [Fact]
    public async Task ServerAbort_PendingClientRead_FailsWithIOExceptionAndLaterWriteFails()
    {
        var registry = new InternalListenerRegistry();
        var accepted = NewSignal();
        var abort = NewSignal();
        var release = NewSignal();
        await using var host = await StartRawAsync(registry, "abort", async connection =>
        {
            accepted.TrySetResult();
            await abort.Task;
            connection.Abort();
            // Stay in the handler: the client must fail because of the abort, not because Kestrel disposed the connection.
            await release.Task;
        });

        try
        {
            using var stream = registry.Connect("abort");
            await accepted.Task.WaitAsync(TestHost.Timeout);
            var read = stream.ReadAsync(new byte[16], TestHost.TimeoutToken()).AsTask();
            Assert.False(read.IsCompleted, "the read completed before the server did anything");

            abort.TrySetResult();
            var readError = await Assert.ThrowsAsync<IOException>(() => read.WaitAsync(TestHost.Timeout));
            Assert.Equal(SocketError.ConnectionReset, Assert.IsType<SocketException>(readError.InnerException).SocketErrorCode);

            await Assert.ThrowsAsync<IOException>(() => stream.WriteAsync(new byte[16], TestHost.TimeoutToken()).AsTask().WaitAsync(TimeSpan.FromSeconds(5)));
        }
        finally
        {
            release.TrySetResult();
        }
    }

    [Fact]
    public async Task Dispose_PendingClientReadOnAnotherThread_FailsWithIOException()
    {
        var registry = new InternalListenerRegistry();
        var release = NewSignal();
        await using var host = await StartRawAsync(registry, "dispose-read", async _ => await release.Task);

        try
        {
            var stream = registry.Connect("dispose-read");
            var read = stream.ReadAsync(new byte[16], TestHost.TimeoutToken()).AsTask();
            Assert.False(read.IsCompleted, "the read completed although the server sent nothing");

            await Task.Run(stream.Dispose);

            // Like a socket closed under a pending receive: an IOException, not a hang or an InvalidOperationException.
            var error = await Assert.ThrowsAsync<IOException>(() => read.WaitAsync(TestHost.Timeout));
            Assert.Equal(SocketError.OperationAborted, Assert.IsType<SocketException>(error.InnerException).SocketErrorCode);
            await Assert.ThrowsAsync<ObjectDisposedException>(() => stream.ReadAsync(new byte[16]).AsTask());
        }
        finally
        {
            release.TrySetResult();
        }
    }

    [Fact]
    public async Task Dispose_PendingClientWriteOnAnotherThread_FailsWithIOException()
    {
        var registry = new InternalListenerRegistry();
        var release = NewSignal();
        await using var host = await StartRawAsync(registry, "dispose-write", async _ => await release.Task, bufferSizeKb: 1);

        try
        {
            var stream = registry.Connect("dispose-write");
            var write = stream.WriteAsync(new byte[64 * 1024], TestHost.TimeoutToken()).AsTask();
            Assert.False(write.IsCompleted, "64 KiB went into a 1 KiB buffer nobody reads");

            await Task.Run(stream.Dispose);

            await Assert.ThrowsAsync<IOException>(() => write.WaitAsync(TestHost.Timeout));
        }
        finally
        {
            release.TrySetResult();
        }
    }

    [Fact]
    public async Task Dispose_PendingServerRead_EndsWithEof()
    {
        var registry = new InternalListenerRegistry();
        var reading = NewSignal();
        var serverRead = NewSignal<(byte[] Data, Exception? Error)>();
        var closedSignalled = NewSignal();
        await using var host = await StartRawAsync(registry, "dispose", async connection =>
        {
            connection.ConnectionClosed.Register(closedSignalled.SetResult);
            reading.TrySetResult();
            try
            {
                serverRead.TrySetResult((await ReadToEndAsync(connection.Transport.Input, TestHost.TimeoutToken()), null));
            }
            catch (Exception ex)
            {
                serverRead.TrySetResult(([], ex));
            }
        });

        var stream = registry.Connect("dispose");
        await stream.WriteAsync("abc"u8.ToArray(), TestHost.TimeoutToken());
        await reading.Task.WaitAsync(TestHost.Timeout);
        Assert.False(serverRead.Task.IsCompleted, "the server read ended while the client was still open");

        stream.Dispose();

        var (data, error) = await serverRead.Task.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Null(error);
        Assert.Equal("abc"u8.ToArray(), data);
        await closedSignalled.Task.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Abort_PendingServerRead_Throws()
    {
        var registry = new InternalListenerRegistry();
        var reading = NewSignal();
        var serverRead = NewSignal<Exception?>();
        await using var host = await StartRawAsync(registry, "reset", async connection =>
        {
            reading.TrySetResult();
            try
            {
                await ReadToEndAsync(connection.Transport.Input, TestHost.TimeoutToken());
                serverRead.TrySetResult(null);
            }
            catch (Exception ex)
            {
                serverRead.TrySetResult(ex);
            }
        });

        var stream = registry.Connect("reset");
        await stream.WriteAsync("abc"u8.ToArray(), TestHost.TimeoutToken());
        await reading.Task.WaitAsync(TestHost.Timeout);
        Assert.False(serverRead.Task.IsCompleted, "the server read ended while the client was still open");

        stream.Abort();

        var error = await serverRead.Task.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.NotNull(error);
        Assert.IsAssignableFrom<IOException>(error);
        Assert.IsType<ConnectionResetException>(error);
    }

    [Fact]
    public async Task Write_AfterServerCompletedInput_FailsWithConnectionReset()
    {
        var registry = new InternalListenerRegistry();
        var inputCompleted = NewSignal();
        var release = NewSignal();
        await using var host = await StartRawAsync(registry, "noinput", async connection =>
        {
            await connection.Transport.Input.CompleteAsync();
            inputCompleted.TrySetResult();
            await release.Task;
        });

        try
        {
            using var stream = registry.Connect("noinput");
            await inputCompleted.Task.WaitAsync(TestHost.Timeout);

            var error = await Assert.ThrowsAsync<IOException>(
                () => stream.WriteAsync(new byte[128], TestHost.TimeoutToken()).AsTask().WaitAsync(TimeSpan.FromSeconds(5)));
            Assert.Equal(SocketError.ConnectionReset, Assert.IsType<SocketException>(error.InnerException).SocketErrorCode);
        }
        finally
        {
            release.TrySetResult();
        }
    }

    [Fact]
    public async Task Write_BlockedWhenServerCompletesInput_FailsWithIOException()
    {
        var registry = new InternalListenerRegistry();
        var accepted = NewSignal();
        var completeInput = NewSignal();
        var release = NewSignal();
        await using var host = await StartRawAsync(registry, "noinput-pending", async connection =>
        {
            accepted.TrySetResult();
            await completeInput.Task;
            await connection.Transport.Input.CompleteAsync();
            await release.Task;
        }, bufferSizeKb: 1);

        try
        {
            using var stream = registry.Connect("noinput-pending");
            await accepted.Task.WaitAsync(TestHost.Timeout);
            // A full buffer suspends the writer at once: the write is pending as soon as it returns.
            var write = stream.WriteAsync(new byte[64 * 1024], TestHost.TimeoutToken()).AsTask();
            Assert.False(write.IsCompleted, "64 KiB went into a 1 KiB buffer nobody reads");

            completeInput.TrySetResult();
            await Assert.ThrowsAsync<IOException>(() => write.WaitAsync(TimeSpan.FromSeconds(5)));
        }
        finally
        {
            release.TrySetResult();
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(16)]
    public async Task Write_ServerNotReading_BlocksAtBufferSizeThenResumes(int bufferSizeKb)
    {
        const int ChunkSize = 256;
        var registry = new InternalListenerRegistry();
        var startReading = NewSignal();
        var serverTotal = NewSignal<long>();
        await using var host = await StartRawAsync(registry, "slow", async connection =>
        {
            await startReading.Task;
            serverTotal.TrySetResult((await ReadToEndAsync(connection.Transport.Input, TestHost.TimeoutToken())).LongLength);
        }, bufferSizeKb);

        var bufferBytes = bufferSizeKb * 1024;
        var limit = 2L * bufferBytes + 64 * 1024;
        using var stream = registry.Connect("slow");
        var chunk = new byte[ChunkSize];
        long accepted = 0;
        Task? stuck = null;
        try
        {
            while (stuck is null)
            {
                // A write that fits completes at once; one that does not is suspended when it returns (nobody reads).
                var write = stream.WriteAsync(chunk, TestHost.TimeoutToken()).AsTask();
                if (write.IsCompleted)
                {
                    await write;
                    accepted += ChunkSize;
                    Assert.True(accepted <= limit, $"{accepted} bytes accepted by a {bufferSizeKb} KiB buffer nobody reads");
                }
                else
                {
                    stuck = write;
                }
            }

            Assert.True(accepted >= bufferBytes / 2, $"the writer stalled after {accepted} bytes with a {bufferBytes}-byte buffer");
        }
        finally
        {
            startReading.TrySetResult();
        }

        await stuck.WaitAsync(TestHost.Timeout);
        stream.CompleteWrites();
        Assert.Equal(accepted + ChunkSize, await serverTotal.Task.WaitAsync(TestHost.Timeout));
    }

    [Fact]
    public void Connect_UnboundName_ThrowsNotFoundImmediately()
    {
        var registry = new InternalListenerRegistry();
        var error = Assert.Throws<InternalListenerNotFoundException>(() => registry.Connect("nobody"));
        Assert.Equal("nobody", error.ListenerName);
        Assert.Contains("'nobody'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connect_AfterHostStopped_ThrowsNotFound()
    {
        var registry = new InternalListenerRegistry();
        await using var host = await StartRawAsync(registry, "gone", EchoAsync);

        using (var stream = registry.Connect("gone"))
        {
            await stream.WriteAsync("ping"u8.ToArray(), TestHost.TimeoutToken());
            stream.CompleteWrites();
            Assert.Equal("ping"u8.ToArray(), await ReadToEndAsync(stream, TestHost.TimeoutToken()));
        }
        Assert.True(registry.Contains("gone"));

        await host.StopAsync(TestHost.TimeoutToken());

        Assert.False(registry.Contains("gone"));
        var error = Assert.Throws<InternalListenerNotFoundException>(() => registry.Connect("gone"));
        Assert.Equal("gone", error.ListenerName);
        Assert.Contains("'gone'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connect_1000ConcurrentEchoConnections_ByteExactAndStatsReturnToZero()
    {
        const int Connections = 1000;
        const int Size = 4096;
        var registry = new InternalListenerRegistry();
        await using var host = await StartRawAsync(registry, "many", EchoAsync);
        var metrics = host.Services.GetRequiredService<TunnelMetrics>();

        var streams = Enumerable.Range(0, Connections).Select(_ => registry.Connect("many")).ToArray();
        try
        {
            Assert.Equal(Connections, metrics.Snapshot()["listener.envoy_internal_many.downstream_cx_active"]);

            var failures = await Task.WhenAll(streams.Select((stream, i) => Task.Run(async () =>
            {
                var payload = new byte[Size];
                new Random(i).NextBytes(payload);
                BitConverter.TryWriteBytes(payload, i);
                var write = Task.Run(async () =>
                {
                    await stream.WriteAsync(payload, TestHost.TimeoutToken());
                    stream.CompleteWrites();
                });
                var echoed = await ReadToEndAsync(stream, TestHost.TimeoutToken());
                await write;
                return echoed.AsSpan().SequenceEqual(payload) ? null : $"connection {i}: got {echoed.Length} bytes, not its own payload";
            }))).WaitAsync(TestHost.Timeout);
            Assert.Equal([], failures.OfType<string>());
        }
        finally
        {
            foreach (var stream in streams)
            {
                stream.Dispose();
            }
        }

        var deadline = Stopwatch.StartNew();
        while (metrics.Snapshot()["listener.envoy_internal_many.downstream_cx_active"] != 0 && deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(20);
        }
        var stats = metrics.Snapshot();
        Assert.Equal(0, stats["listener.envoy_internal_many.downstream_cx_active"]);
        Assert.Equal(Connections, stats["listener.envoy_internal_many.downstream_cx_total"]);
        Assert.Equal(Connections, stats["listener.envoy_internal_many.downstream_cx_destroy"]);
        Assert.Equal((long)Connections * Size, stats["listener.envoy_internal_many.downstream_cx_rx_bytes_total"]);
        Assert.Equal((long)Connections * Size, stats["listener.envoy_internal_many.downstream_cx_tx_bytes_total"]);
    }

    private static int CountSockets()
    {
        var count = 0;
        foreach (var fd in Directory.GetFiles("/proc/self/fd"))
        {
            try
            {
                if (new FileInfo(fd).LinkTarget?.StartsWith("socket:", StringComparison.Ordinal) == true)
                {
                    count++;
                }
            }
            catch (IOException)
            {
                // The descriptor closed between listing and reading.
            }
        }
        return count;
    }

    [Fact]
    public async Task Connect_HostWithOnlyInternalListeners_OpensNoSocket()
    {
        const int Connections = 50;
        var registry = new InternalListenerRegistry();
        var endPoints = new ConcurrentBag<EndPoint?>();
        var allAccepted = NewSignal();
        var before = CountSockets();

        await using var host = await StartRawAsync(registry, "nosock", async connection =>
        {
            endPoints.Add(connection.LocalEndPoint);
            if (endPoints.Count == Connections)
            {
                allAccepted.TrySetResult();
            }
            await EchoAsync(connection);
        });

        var streams = Enumerable.Range(0, Connections).Select(_ => registry.Connect("nosock")).ToArray();
        try
        {
            await allAccepted.Task.WaitAsync(TestHost.Timeout);
            foreach (var stream in streams)
            {
                await stream.WriteAsync("x"u8.ToArray(), TestHost.TimeoutToken());
                var one = new byte[1];
                Assert.Equal(1, await stream.ReadAsync(one, TestHost.TimeoutToken()));
            }

            var during = CountSockets();
            Assert.True(during - before <= 3, $"{before} sockets before the host started, {during} with {Connections} internal connections open");
        }
        finally
        {
            foreach (var stream in streams)
            {
                stream.Dispose();
            }
        }

        Assert.Equal(Connections, endPoints.Count);
        Assert.All(endPoints, endPoint => Assert.Equal("nosock", Assert.IsType<InternalEndPoint>(endPoint).Name));
    }

    [Fact]
    public async Task UseHttps_HandWrittenHttp11OverSslStream_ServesRequest()
    {
        var registry = new InternalListenerRegistry();
        using var certificate = TestCertificates.CreateSelfSigned();
        await using var host = await TestHost.StartAsync(b =>
        {
            b.WebHost.UseInternalListeners(registry);
            b.WebHost.ConfigureKestrel(k => k.ListenInternal("tls", o =>
            {
                o.Protocols = HttpProtocols.Http1AndHttp2;
                o.UseHttps(certificate);
            }));
        }, app => app.MapGet("/tls", async (HttpContext c) =>
        {
            var body = Encoding.ASCII.GetBytes(
                $"https={c.Request.IsHttps} listener={c.Features.Get<IInternalConnectionFeature>()?.ListenerName} protocol={c.Request.Protocol}");
            c.Response.ContentLength = body.Length;
            await c.Response.Body.WriteAsync(body);
        }));

        await using var stream = new SslStream(registry.Connect("tls"), leaveInnerStreamOpen: false);
        X509Certificate? presented = null;
        await stream.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "localhost",
            ApplicationProtocols = [SslApplicationProtocol.Http11],
            RemoteCertificateValidationCallback = (_, cert, _, _) =>
            {
                presented = cert;
                return true;
            },
        }, TestHost.TimeoutToken());
        Assert.Equal(SslApplicationProtocol.Http11, stream.NegotiatedApplicationProtocol);
        Assert.NotEqual(SslProtocols.None, stream.SslProtocol);
        Assert.Equal(certificate.Thumbprint, Assert.IsType<X509Certificate2>(presented).Thumbprint);

        await stream.WriteAsync("GET /tls HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"u8.ToArray(), TestHost.TimeoutToken());
        var response = Encoding.ASCII.GetString(await ReadToEndAsync(stream, TestHost.TimeoutToken()).WaitAsync(TestHost.Timeout));

        Assert.StartsWith("HTTP/1.1 200 OK\r\n", response, StringComparison.Ordinal);
        var headersEnd = response.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        Assert.True(headersEnd > 0, response);
        Assert.Contains("\r\nContent-Length: 41\r\n", response[..(headersEnd + 2)], StringComparison.OrdinalIgnoreCase);
        Assert.Equal("https=True listener=tls protocol=HTTP/1.1", response[(headersEnd + 4)..]);
    }
}
