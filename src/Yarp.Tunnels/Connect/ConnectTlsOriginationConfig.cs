namespace Yarp.Tunnels.Connect;

/// <summary>TLS from the gateway to a CONNECT target (<c>Routes:&lt;id&gt;:Connect:TlsOrigination</c>); the client speaks plaintext.</summary>
public sealed record ConnectTlsOriginationConfig
{
    /// <summary>Whether TLS is originated; default true when the block is present.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>The SNI and the name the certificate must carry; default: the target host.</summary>
    public string? ServerName { get; init; }

    /// <summary>Validate the target's certificate (chain and name); default true.</summary>
    public bool ValidateCertificate { get; init; } = true;
}
