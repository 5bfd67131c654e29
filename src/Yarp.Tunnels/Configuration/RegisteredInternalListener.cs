using System.Net;
using Yarp.Tunnels.InternalListeners;

namespace Yarp.Tunnels.Configuration;

/// <summary>A started internal listener: its name registered in the registry until it drains.</summary>
internal sealed class RegisteredInternalListener : IActiveListener
{
    private readonly InternalListenerRegistry _registry;
    private readonly InternalListenerRegistration _registration;
    private readonly Task _ready;

    /// <summary>Registers <paramref name="registration"/>; <paramref name="ready"/> completes when its connections can be served.</summary>
    public RegisteredInternalListener(InternalListenerRegistry registry, InternalListenerRegistration registration, Task ready)
    {
        _registry = registry;
        _registration = registration;
        _ready = ready;
        EndPoints = [new InternalEndPoint(registration.Name, registration.BufferSizeKb)];
        registry.Add(registration);
    }

    public IReadOnlyList<EndPoint> EndPoints { get; }

    public bool IsReady => _ready.IsCompletedSuccessfully;

    public Task DrainAsync(TimeSpan timeout, CancellationToken abort)
    {
        _registry.Remove(_registration);
        return _registration.DrainAsync(timeout, abort);
    }

    public Task StopAsync(CancellationToken cancellationToken) =>
        // Kestrel closes the HTTP connections it serves gracefully on shutdown; anything else is reset.
        DrainAsync(TimeSpan.Zero, cancellationToken);
}
