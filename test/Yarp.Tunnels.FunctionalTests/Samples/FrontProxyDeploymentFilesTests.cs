using System.Net;
using FrontProxy;
using Microsoft.Extensions.Configuration;
using Yarp.Tunnels.FunctionalTests.Common;
using YamlDotNet.RepresentationModel;

namespace Yarp.Tunnels.FunctionalTests.Samples;

/// <summary>
/// The FrontProxy sample's Dockerfile, compose.yaml and Kubernetes manifests (no Docker engine or cluster here):
/// they parse (YamlDotNet) and agree with the sample — its ports, its roles and switches (read by the sample's own
/// <see cref="SampleOptions"/>), its configuration keys.
/// </summary>
public class FrontProxyDeploymentFilesTests
{
    private static readonly string Folder = Path.Combine(RepoPaths.Root, "samples", "FrontProxy");

    private static readonly string[] AddressKeys =
        ["ReverseProxy:Listeners:front_http:Address", "ReverseProxy:Listeners:front_https:Address", "ReverseProxy:Admin:Address"];

    private readonly IConfiguration _appsettings = new ConfigurationBuilder().AddJsonFile(Path.Combine(Folder, "appsettings.json")).Build();

    [Fact]
    public void Dockerfile_ExposesTheSamplesPortsAndRunsItsAssembly()
    {
        var lines = File.ReadAllLines(Path.Combine(Folder, "Dockerfile"));

        var exposed = lines.Single(l => l.StartsWith("EXPOSE ", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(int.Parse);
        Assert.Equal(FrontPorts(), exposed.Order());
        Assert.Contains(lines, l => l == "ENTRYPOINT [\"dotnet\", \"FrontProxy.dll\"]");
        var publish = lines.Single(l => l.Contains("dotnet publish", StringComparison.Ordinal)).Split(' ')[3];
        Assert.True(File.Exists(Path.Combine(RepoPaths.Root, publish)), publish);
    }

    [Fact]
    public void Compose_MirrorsTheSandbox_PortsRolesAndSettingsAgree()
    {
        var services = (YamlMappingNode)Load("compose.yaml").Single()["services"];
        Assert.Equal(["front-proxy", "service1", "service2"], services.Children.Keys.Select(k => k.ToString()));

        var front = (YamlMappingNode)services["front-proxy"];
        var frontCommand = Strings(front["command"]);
        Assert.Equal(Role.Front, ReadOptions(frontCommand).Role);
        Assert.Equal(FrontPorts().Select(p => $"{p}:{p}"), Strings(front["ports"]).Order());

        // The environment overrides keys the sample has, on the same ports, on every interface (admin explicitly).
        var environment = ((YamlMappingNode)front["environment"]).Children.ToDictionary(kv => kv.Key.ToString().Replace("__", ":", StringComparison.Ordinal), kv => kv.Value.ToString());
        Assert.Equal(AddressKeys.Order(), environment.Keys.Order());
        AssertSamePortsOnAnyInterface(environment);

        AssertSidecars(frontCommand, name => Strings(((YamlMappingNode)services[name])["command"]));
        Assert.All(services.Children.Values, s => Assert.Equal("yarp-tunnels/front-proxy", ((YamlMappingNode)((YamlMappingNode)s)["<<"])["image"].ToString()));
    }

    [Fact]
    public void Kubernetes_FrontDeploymentAndService_ServicesScaledByReplicas_ConfigFromTheConfigMap()
    {
        var documents = Directory.GetFiles(Path.Combine(Folder, "kubernetes"), "*.yaml").Order().SelectMany(Load).ToList();
        YamlMappingNode Find(string kind, string name) => Assert.Single(documents,
            d => d["kind"].ToString() == kind && ((YamlMappingNode)d["metadata"])["name"].ToString() == name);

        // The ConfigMap holds the sample's appsettings.json, only its three addresses on every interface.
        var configMap = Find("ConfigMap", "front-proxy-config");
        var settings = new ConfigurationBuilder()
            .AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(((YamlMappingNode)configMap["data"])["appsettings.json"].ToString())))
            .Build();
        var expected = _appsettings.AsEnumerable().Where(kv => kv.Value is not null && !AddressKeys.Contains(kv.Key)).OrderBy(kv => kv.Key);
        Assert.Equal(expected, settings.AsEnumerable().Where(kv => kv.Value is not null && !AddressKeys.Contains(kv.Key)).OrderBy(kv => kv.Key));
        AssertSamePortsOnAnyInterface(AddressKeys.ToDictionary(k => k, k => settings[k]!));

        var front = Find("Deployment", "front-proxy");
        var frontContainer = Container(front);
        var frontArgs = Strings(frontContainer["args"]);
        Assert.Equal(Role.Front, ReadOptions(frontArgs).Role);
        Assert.Equal(FrontPorts(), ContainerPorts(frontContainer));
        Assert.Equal(FrontPorts(), ServicePorts(Find("Service", "front-proxy")));
        AssertMountsTheConfigMap(front);

        AssertSidecars(frontArgs, name => Strings(Container(Find("Deployment", name))["args"]));
        foreach (var name in new[] { "service1", "service2" })
        {
            var deployment = Find("Deployment", name);
            Assert.True(int.Parse(((YamlMappingNode)deployment["spec"])["replicas"].ToString(), System.Globalization.CultureInfo.InvariantCulture) >= 1);
            var listenPort = IPEndPoint.Parse(ReadOptions(Strings(Container(deployment)["args"])).Listen!).Port;
            Assert.Equal([listenPort], ContainerPorts(Container(deployment)));
            var service = Find("Service", name);
            Assert.Equal("None", ((YamlMappingNode)service["spec"])["clusterIP"].ToString());
            Assert.Equal([listenPort], ServicePorts(service));
            AssertMountsTheConfigMap(deployment);
        }
    }

    /// <summary>Each <c>--serviceN http://HOST:PORT</c> of the front names a sidecar container HOST listening on PORT for service N.</summary>
    private static void AssertSidecars(IReadOnlyList<string> frontArguments, Func<string, IReadOnlyList<string>> commandOf)
    {
        var front = ReadSwitches(frontArguments);
        foreach (var service in new[] { 1, 2 })
        {
            var destination = new Uri(front[$"FrontProxy:Services:service{service}:Destinations"]!);
            var sidecar = ReadOptions(commandOf(destination.Host));
            Assert.Equal(Role.Sidecar, sidecar.Role);
            Assert.Equal(service, sidecar.Service);
            // Its replica runs beside it, in the same container, as in the sandbox.
            Assert.Null(sidecar.Upstream);
            Assert.Equal(destination.Port, IPEndPoint.Parse(sidecar.Listen!).Port);
            Assert.StartsWith("0.0.0.0:", sidecar.Listen, StringComparison.Ordinal);
        }
    }

    private static SampleOptions ReadOptions(IReadOnlyList<string> arguments)
    {
        var unknown = arguments.Where(a => a.StartsWith("--", StringComparison.Ordinal) && !SampleOptions.Switches.ContainsKey(a)).ToList();
        Assert.True(unknown.Count == 0, $"switches the sample does not know: {string.Join(", ", unknown)}");
        return SampleOptions.Read(ReadSwitches(arguments));
    }

    private static IConfiguration ReadSwitches(IReadOnlyList<string> arguments) =>
        new ConfigurationBuilder().AddCommandLine([.. arguments], SampleOptions.Switches.ToDictionary()).Build();

    private int[] FrontPorts() => [.. AddressKeys.Select(k => Port(_appsettings[k]!)).Order()];

    private void AssertSamePortsOnAnyInterface(IReadOnlyDictionary<string, string> addresses)
    {
        foreach (var key in AddressKeys)
        {
            Assert.Equal(Port(_appsettings[key]!), Port(addresses[key]));
            Assert.StartsWith("127.0.0.1:", _appsettings[key]!.Replace("tcp://", "", StringComparison.Ordinal), StringComparison.Ordinal);
            Assert.StartsWith("0.0.0.0:", addresses[key].Replace("tcp://", "", StringComparison.Ordinal), StringComparison.Ordinal);
        }
    }

    private static void AssertMountsTheConfigMap(YamlMappingNode deployment)
    {
        var mount = (YamlMappingNode)((YamlSequenceNode)Container(deployment)["volumeMounts"]).Single();
        Assert.Equal("/app/appsettings.json", mount["mountPath"].ToString());
        Assert.Equal("appsettings.json", mount["subPath"].ToString());
        var volume = (YamlMappingNode)((YamlSequenceNode)PodSpec(deployment)["volumes"]).Single();
        Assert.Equal(mount["name"].ToString(), volume["name"].ToString());
        Assert.Equal("front-proxy-config", ((YamlMappingNode)volume["configMap"])["name"].ToString());
    }

    private static int Port(string address) => IPEndPoint.Parse(address.Replace("tcp://", "", StringComparison.Ordinal)).Port;

    private static YamlMappingNode PodSpec(YamlMappingNode deployment) =>
        (YamlMappingNode)((YamlMappingNode)((YamlMappingNode)deployment["spec"])["template"])["spec"];

    private static YamlMappingNode Container(YamlMappingNode deployment) =>
        (YamlMappingNode)((YamlSequenceNode)PodSpec(deployment)["containers"]).Single();

    private static int[] ContainerPorts(YamlMappingNode container) =>
        [.. ((YamlSequenceNode)container["ports"]).Select(p => int.Parse(((YamlMappingNode)p)["containerPort"].ToString(), System.Globalization.CultureInfo.InvariantCulture)).Order()];

    private static int[] ServicePorts(YamlMappingNode service) =>
        [.. ((YamlSequenceNode)((YamlMappingNode)service["spec"])["ports"]).Select(p => int.Parse(((YamlMappingNode)p)["port"].ToString(), System.Globalization.CultureInfo.InvariantCulture)).Order()];

    private static string[] Strings(YamlNode node) => [.. ((YamlSequenceNode)node).Select(n => n.ToString())];

    private static IEnumerable<YamlMappingNode> Load(string file)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(Path.Combine(Folder, file))));
        return stream.Documents.Select(d => (YamlMappingNode)d.RootNode);
    }
}
