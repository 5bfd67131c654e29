using System.Collections.Concurrent;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Yarp.Tunnels.Telemetry;

namespace Yarp.Tunnels.InternalListeners;

/// <summary>One bound internal listener name: where its connections go, its buffer size, its stats and its live connections.</summary>
internal sealed class InternalListenerRegistration
{
    private readonly ConcurrentDictionary<InternalServerConnection, byte> _active = new();
    private TaskCompletionSource? _drained;

    public InternalListenerRegistration(string name, int bufferSizeKb, IInternalConnectionAcceptor acceptor, ListenerStats stats)
    {
        Name = name;
        BufferSizeKb = bufferSizeKb;
        Acceptor = acceptor;
        Stats = stats;
    }

    public string Name { get; }

    public int BufferSizeKb { get; }

    public IInternalConnectionAcceptor Acceptor { get; }

    public ListenerStats Stats { get; }

    /// <param name="options">What the client passes to the listener side.</param>
    /// <param name="prepare">Sets up the server end (addresses, features) before the acceptor sees it.</param>
    public InternalStream Connect(InternalConnectOptions? options, Action<InternalServerConnection>? prepare = null)
    {
        var pair = new InternalConnectionPair(this, options);
        prepare?.Invoke(pair.Server);
        _active.TryAdd(pair.Server, 0);
        Stats.ConnectionOpened();
        bool accepted;
        try
        {
            accepted = Acceptor.TryAccept(pair.Server);
        }
        catch (InternalListenerBusyException)
        {
            Refuse(pair);
            throw;
        }
        if (!accepted)
        {
            Refuse(pair);
            throw new InternalListenerNotFoundException(Name);
        }
        return pair.Client;
    }

    private static void Refuse(InternalConnectionPair pair)
    {
        pair.Client.Dispose();
        _ = pair.Server.DisposeAsync();
    }

    public void OnServerConnectionClosed(InternalServerConnection connection)
    {
        if (_active.TryRemove(connection, out _))
        {
            Stats.ConnectionClosed();
            if (_active.IsEmpty)
            {
                Volatile.Read(ref _drained)?.TrySetResult();
            }
        }
    }

    /// <summary>
    /// Asks connections served by Kestrel to close (HTTP/2 GOAWAY, HTTP/1.1 <c>Connection: close</c>), waits for live
    /// connections to finish, then resets those still open after <paramref name="timeout"/> or when
    /// <paramref name="abort"/> fires.
    /// </summary>
    public async Task DrainAsync(TimeSpan timeout, CancellationToken abort = default)
    {
        var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _drained, drained);
        foreach (var connection in _active.Keys)
        {
            connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.RequestClose();
        }
        if (_active.IsEmpty)
        {
            return;
        }

        await Task.WhenAny(drained.Task, Task.Delay(timeout, abort)).ConfigureAwait(false);
        foreach (var connection in _active.Keys)
        {
            connection.Abort(new ConnectionAbortedException($"The internal listener '{Name}' was removed and its drain timeout elapsed."));
        }
    }
}
