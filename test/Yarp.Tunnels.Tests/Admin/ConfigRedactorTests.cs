using System.Text.Json.Nodes;
using Yarp.Tunnels.Admin;

namespace Yarp.Tunnels.Tests.Admin;

public class ConfigRedactorTests
{
    [Fact]
    public void Redact_SecretNamedKeysAndValuesBesideSecretHeaders_Hidden()
    {
        var node = JsonNode.Parse("""
            {
              "Certificate": { "Path": "cert.pfx", "Password": "p1" },
              "Tunneling": { "HeadersToAdd": { "Proxy-Authorization": "Basic p2", "x-original-port": "80" } },
              "Transforms": [ { "RequestHeader": "X-Api-Key", "Set": "p3" }, { "RequestHeader": "x-forwarded-proto", "Set": "https" } ],
              "Metadata": { "ClientSecret": "p4", "Region": "eu" },
              "Nested": { "ConnectionStrings": { "Db": "p5" } }
            }
            """);

        var text = ConfigRedactor.Redact(node)!.ToJsonString();

        Assert.All(new[] { "p1", "p2", "p3", "p4" }, secret => Assert.DoesNotContain($"\"{secret}\"", text, StringComparison.Ordinal));
        Assert.DoesNotContain("Basic p2", text, StringComparison.Ordinal);
        Assert.Contains("\"Path\":\"cert.pfx\"", text, StringComparison.Ordinal);
        Assert.Contains("\"x-original-port\":\"80\"", text, StringComparison.Ordinal);
        Assert.Contains("\"RequestHeader\":\"X-Api-Key\"", text, StringComparison.Ordinal);
        Assert.Contains("\"Set\":\"https\"", text, StringComparison.Ordinal);
        Assert.Contains("\"Region\":\"eu\"", text, StringComparison.Ordinal);
        Assert.Contains("\"Db\":\"[redacted]\"", text, StringComparison.Ordinal);
    }

    [Fact]
    public void RedactArguments_SecretOptions_ValuesHidden()
    {
        var args = ConfigRedactor.RedactArguments(["--urls", "http://x", "--Db:Password=hunter2", "--token", "abc", "--role", "front"]);

        Assert.Equal(["--urls", "http://x", "--Db:Password=[redacted]", "--token", "[redacted]", "--role", "front"], args);
    }
}
