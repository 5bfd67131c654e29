using System.Security.Cryptography.X509Certificates;

namespace Yarp.Tunnels.Configuration;

/// <summary>Loads an HTTP socket listener's certificate (PFX, or PEM with a key file), relative to the content root.</summary>
internal static class ListenerCertificateLoader
{
    public static X509Certificate2 Load(string listenerName, ListenerCertificateConfig config, string contentRoot)
    {
        var path = Path.Combine(contentRoot, config.Path!);
        try
        {
            if (config.KeyPath is not { } keyPath)
            {
                return X509CertificateLoader.LoadPkcs12FromFile(path, config.Password);
            }
            keyPath = Path.Combine(contentRoot, keyPath);
            var certificate = config.Password is null
                ? X509Certificate2.CreateFromPemFile(path, keyPath)
                : X509Certificate2.CreateFromEncryptedPemFile(path, config.Password, keyPath);
            if (!OperatingSystem.IsWindows())
            {
                return certificate;
            }
            // SChannel cannot use the ephemeral key of a PEM-loaded certificate (Kestrel does the same round trip).
            using (certificate)
            {
                return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), password: null);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or ArgumentException)
        {
            throw new InvalidOperationException($"Listener '{listenerName}': Certificate '{config.Path}' could not be loaded: {ex.Message}", ex);
        }
    }
}
