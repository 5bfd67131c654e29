using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Yarp.Tunnels.Benchmarks.Connect;

/// <summary>
/// This program's <c>connect-clients</c> mode: a process of its own that opens idle HTTP/1.1 CONNECT tunnels (CONNECT,
/// 200, one byte echoed, then silence) and holds them until its standard input closes (<see cref="ChildProcess"/>).
/// </summary>
internal static class ConnectClients
{
    public const string Mode = "connect-clients";

    public static async Task<int> RunAsync(string[] args)
    {
        var port = (int)E2e.E2eRunner.ReadOption(args, "--port", 0);
        var count = (int)E2e.E2eRunner.ReadOption(args, "--count", 1);
        var target = args.SkipWhile(a => a != "--target").Skip(1).FirstOrDefault() ?? "echo:1";
        var request = Encoding.ASCII.GetBytes($"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n");
        var clients = new List<Socket>(count);
        for (var opened = 0; opened < count; opened += 100)
        {
            clients.AddRange(await Task.WhenAll(Enumerable.Range(0, Math.Min(100, count - opened)).Select(_ => OpenAsync(port, request))));
        }
        await ChildProcess.RunUntilParentClosesAsync();
        foreach (var client in clients)
        {
            client.LingerState = new LingerOption(true, 0);
            client.Dispose();
        }
        return 0;
    }

    private static async Task<Socket> OpenAsync(int port, byte[] request)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(IPAddress.Loopback, port);
        await socket.SendAsync(request);
        var head = new List<byte>();
        var buffer = new byte[1];
        // Byte by byte up to the end of the response head, so no tunnel byte is consumed with it.
        while (!(head.Count >= 4 && head[^4] == '\r' && head[^3] == '\n' && head[^2] == '\r' && head[^1] == '\n'))
        {
            if (await socket.ReceiveAsync(buffer) == 0)
            {
                throw new IOException($"The gateway closed the tunnel after '{Encoding.ASCII.GetString([.. head])}'.");
            }
            head.Add(buffer[0]);
        }
        var status = Encoding.ASCII.GetString([.. head]);
        if (!status.StartsWith("HTTP/1.1 200", StringComparison.Ordinal))
        {
            throw new IOException($"CONNECT refused: {status.Split('\r')[0]}");
        }
        await socket.SendAsync(new byte[] { 42 });
        if (await socket.ReceiveAsync(buffer) != 1 || buffer[0] != 42)
        {
            throw new IOException("The tunnel did not echo.");
        }
        return socket;
    }

    internal static string Str(int value) => value.ToString(CultureInfo.InvariantCulture);
}
