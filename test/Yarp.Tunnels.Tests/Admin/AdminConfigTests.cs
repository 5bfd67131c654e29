using Microsoft.Extensions.Configuration;
using Yarp.Tunnels.Admin;
using Yarp.Tunnels.Configuration;

namespace Yarp.Tunnels.Tests.Admin;

public class AdminConfigTests
{
    private static IConfigurationSection Section(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => KeyValuePair.Create<string, string?>("Admin:" + v.Key, v.Value))).Build().GetSection("Admin");

    [Theory]
    [InlineData("8001", "tcp://127.0.0.1:8001")]
    [InlineData("127.0.0.1:8001", "tcp://127.0.0.1:8001")]
    [InlineData("tcp://0.0.0.0:0", "tcp://0.0.0.0:0")]
    [InlineData("[::1]:9000", "tcp://[::1]:9000")]
    public void Read_Address_NormalizedToListenerAddress(string address, string expected)
    {
        var errors = new List<string>();

        var admin = AdminConfig.Read(Section(("Address", address)), new TunnelAdminOptions(), errors);

        Assert.Empty(errors);
        Assert.Equal(expected, admin!.Address);
        var listener = admin.ToListener();
        Assert.Equal(("admin", ListenerProtocols.Http1, "admin"), (listener.Name, listener.Protocols, listener.StatPrefix));
    }

    [Theory]
    [InlineData("localhost:8001")]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    [InlineData("70000")]
    [InlineData("envoy-internal://admin")]
    public void Read_MalformedAddress_ErrorNamingTheKey(string address)
    {
        var errors = new List<string>();

        Assert.Null(AdminConfig.Read(Section(("Address", address)), new TunnelAdminOptions(), errors));

        Assert.Equal($"Admin: Address '{address}' is malformed: expected IP:PORT (e.g. 127.0.0.1:8001, 0.0.0.0:8001 for every interface) or a port (127.0.0.1 only).", Assert.Single(errors));
    }

    [Fact]
    public void Read_SectionOverCode_SectionWinsKeyByKey()
    {
        var errors = new List<string>();
        var code = new TunnelAdminOptions { Address = "127.0.0.1:1", AuthorizationPolicy = "ops" };

        var fromCode = AdminConfig.Read(null, code, errors);
        var mixed = AdminConfig.Read(Section(("Address", "127.0.0.1:2")), code, errors);

        Assert.Empty(errors);
        Assert.Equal(("tcp://127.0.0.1:1", "ops"), (fromCode!.Address, fromCode.AuthorizationPolicy));
        Assert.Equal(("tcp://127.0.0.1:2", "ops"), (mixed!.Address, mixed.AuthorizationPolicy));
        Assert.Null(AdminConfig.Read(null, new TunnelAdminOptions(), errors));
        Assert.Empty(errors);
    }

    [Fact]
    public void Read_PolicyWithoutAddress_Error()
    {
        var errors = new List<string>();

        Assert.Null(AdminConfig.Read(Section(("AuthorizationPolicy", "ops")), new TunnelAdminOptions(), errors));

        Assert.Contains("AuthorizationPolicy is set but Address is not", Assert.Single(errors), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_ListenerNamedAdminAndListenerOnTheAdminAddress_BothReported()
    {
        var errors = new List<string>();
        var admin = new AdminConfig("tcp://127.0.0.1:8001", null).ToListener();

        var specs = ListenerConfigValidator.Validate(
        [
            new ListenerConfig { Name = "ADMIN", Address = "tcp://127.0.0.1:9000" },
            new ListenerConfig { Name = "front", Address = "tcp://127.0.0.1:8001" },
        ], [], _ => false, errors, admin);

        Assert.Equal(
        [
            "Listener 'ADMIN': the name is taken by the admin endpoint (ReverseProxy:Admin); rename the listener.",
            "Admin: Address 'tcp://127.0.0.1:8001' is already used by listener 'front'.",
        ], errors);
        Assert.Equal(["front"], specs.Select(s => s.Name));
    }

    [Fact]
    public void Validate_AdminListener_MarkedAdminSocketHttp()
    {
        var errors = new List<string>();

        var specs = ListenerConfigValidator.Validate([new ListenerConfig { Name = "admin2", Address = "tcp://127.0.0.1:9000" }], [], _ => false, errors,
            new AdminConfig("tcp://127.0.0.1:0", null).ToListener());

        Assert.Empty(errors);
        var spec = Assert.Single(specs, s => s.IsAdmin);
        Assert.Equal((ListenerKind.SocketHttp, "admin"), (spec.Kind, spec.StatPrefix));
        Assert.False(specs.Single(s => s.Name == "admin2").IsAdmin);
    }
}
