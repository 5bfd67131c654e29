using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Configuration;

namespace Yarp.Tunnels.Samples;

/// <summary>
/// A sample gateway's self-signed HTTPS certificate (subject <c>CN=&lt;commonName&gt;</c>, valid for localhost / 127.0.0.1 /
/// ::1), generated on first run and kept outside the repository, under the user's application data folder (Linux:
/// <c>~/.config/yarp-tunnels/samples/&lt;sample&gt;/</c>). Linked into each sample that serves HTTPS.
/// </summary>
internal static class SampleCertificate
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromDays(365);
    private static readonly TimeSpan RenewBefore = TimeSpan.FromDays(7);

    public static string DefaultPath(string sample, string commonName) => Path.Combine(
        Environment.GetFolderPath(Environment.SpecialFolder.ApplicationData, Environment.SpecialFolderOption.Create),
        "yarp-tunnels", "samples", sample, commonName + ".pfx");

    /// <summary>
    /// Points the listener's <c>Certificate</c> section at the generated certificate unless the configuration already
    /// names one; returns the generated file's path, or null when a configured certificate is used.
    /// </summary>
    public static string? UseUnlessConfigured(ConfigurationManager configuration, string certificateSection, string sample, string commonName)
    {
        if (configuration.GetSection(certificateSection).Exists())
        {
            return null;
        }
        var path = EnsureCreated(DefaultPath(sample, commonName), commonName);
        configuration.AddInMemoryCollection(new Dictionary<string, string?> { [certificateSection + ":Path"] = path });
        return path;
    }

    private static string EnsureCreated(string path, string commonName)
    {
        if (File.Exists(path) && !ExpiresSoon(path))
        {
            return path;
        }
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + commonName, key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1", "Server Authentication")], false));
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddMinutes(-5), now + Lifetime);

        // Write then rename, so a concurrent first run never reads half a file.
        var temporary = $"{path}.{Environment.ProcessId}.tmp";
        File.WriteAllBytes(temporary, certificate.Export(X509ContentType.Pfx));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        File.Move(temporary, path, overwrite: true);
        return path;
    }

    private static bool ExpiresSoon(string path)
    {
        try
        {
            using var existing = X509CertificateLoader.LoadPkcs12FromFile(path, password: null);
            return existing.NotAfter.ToUniversalTime() - DateTime.UtcNow < RenewBefore;
        }
        catch (CryptographicException)
        {
            return true;
        }
    }
}
