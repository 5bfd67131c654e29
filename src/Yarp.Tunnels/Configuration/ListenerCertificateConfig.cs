namespace Yarp.Tunnels.Configuration;

/// <summary>The TLS certificate of an HTTP socket listener, loaded by Kestrel as an endpoint <c>Certificate</c>.</summary>
public sealed record ListenerCertificateConfig
{
    /// <summary>A PFX file, or a PEM certificate file when <see cref="KeyPath"/> is set.</summary>
    public string? Path { get; init; }

    /// <summary>The PEM private key file of a PEM certificate.</summary>
    public string? KeyPath { get; init; }

    /// <summary>The PFX password, or the password of an encrypted PEM key.</summary>
    public string? Password { get; init; }

    // Keeps the password out of logs and exception messages that print the config.
    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append($"Path = {Path}, KeyPath = {KeyPath}, Password = {(Password is null ? "" : "***")}");
        return true;
    }
}
