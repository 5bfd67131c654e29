using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Yarp.Tunnels.Configuration;
using Yarp.Tunnels.FunctionalTests.Common;
using Yarp.Tunnels.InternalListeners;

namespace Yarp.Tunnels.FunctionalTests.Configuration;

public class HttpsListenerTests
{
    [Fact]
    public async Task Listener_CertificateWithHttp1AndHttp2_NegotiatesHttp2ByAlpn()
    {
        var dir = Directory.CreateTempSubdirectory("yarp-tunnels-tls");
        try
        {
            using var certificate = TestCertificates.CreateSelfSigned();
            using var key = certificate.GetRSAPrivateKey()!;
            var certPath = Path.Combine(dir.FullName, "cert.pem");
            var keyPath = Path.Combine(dir.FullName, "key.pem");
            await File.WriteAllTextAsync(certPath, certificate.ExportCertificatePem());
            await File.WriteAllTextAsync(keyPath, key.ExportPkcs8PrivateKeyPem());
            var section = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["ReverseProxy:Listeners:tls:Address"] = "tcp://127.0.0.1:0",
                ["ReverseProxy:Listeners:tls:Protocols"] = "Http1AndHttp2",
                ["ReverseProxy:Listeners:tls:Certificate:Path"] = certPath,
                ["ReverseProxy:Listeners:tls:Certificate:KeyPath"] = keyPath,
            }).Build().GetSection("ReverseProxy");

            // The slim builder, without UseKestrelHttpsConfiguration: listeners load their certificates themselves.
            await using var host = await TestHost.StartAsync(
                b => b.Services.AddReverseProxy().LoadFromConfig(section).AddTunnels(section, new InternalListenerRegistry()),
                app => app.MapGet("/proto", (HttpContext c) => $"{c.Request.Protocol}|{c.Features.Get<IHttpListenerFeature>()?.ListenerName}"));

            using var handler = new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true } };
            using var client = new HttpClient(handler) { Timeout = TestHost.Timeout };
            using var message = new HttpRequestMessage(HttpMethod.Get, $"https://127.0.0.1:{host.ListenerPort("tls")}/proto")
            {
                Version = HttpVersion.Version20,
                VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            };
            using var response = await client.SendAsync(message);
            Assert.Equal(HttpVersion.Version20, response.Version);
            Assert.Equal("HTTP/2|tls", await response.Content.ReadAsStringAsync());
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
