using Microsoft.Extensions.Configuration;

namespace FrontProxy;

/// <summary>Which part of the topology this process runs (<c>--role</c>).</summary>
internal enum Role
{
    /// <summary>No role given: the whole topology in this process, over internal listeners.</summary>
    Embedded,

    /// <summary>The front gateway, forwarding to the sidecars named by <c>--service1</c> / <c>--service2</c>.</summary>
    Front,

    /// <summary>One sidecar gateway on <c>--listen</c>, forwarding to <c>--upstream</c> (or to its own in-process replica).</summary>
    Sidecar,

    /// <summary>One service replica on <c>--listen</c>.</summary>
    Service,
}

/// <summary>The <c>FrontProxy</c> section and its command-line switches.</summary>
internal sealed record SampleOptions(Role Role, string? Listen, string? Upstream, int Service, string? Replica, string? Admin)
{
    public const string Section = "FrontProxy";

    /// <summary>Command-line switches and the keys they set, so each has an appsettings / environment equivalent.</summary>
    public static readonly IReadOnlyDictionary<string, string> Switches = new Dictionary<string, string>
    {
        ["--role"] = "FrontProxy:Role",
        ["--listen"] = "FrontProxy:Listen",
        ["--upstream"] = "FrontProxy:Upstream",
        ["--service"] = "FrontProxy:Service",
        ["--replica"] = "FrontProxy:Replica",
        ["--admin"] = "FrontProxy:Admin",
        ["--service1"] = "FrontProxy:Services:service1:Destinations",
        ["--service2"] = "FrontProxy:Services:service2:Destinations",
    };

    public static SampleOptions Read(IConfiguration configuration)
    {
        var section = configuration.GetSection(Section);
        var roleText = section["Role"];
        var role = string.IsNullOrEmpty(roleText) ? Role.Embedded
            : Enum.TryParse<Role>(roleText, ignoreCase: true, out var parsed) && parsed != Role.Embedded && !int.TryParse(roleText, out _) ? parsed
            : throw new StartupException($"unknown role '{roleText}' (--role takes front, sidecar or service; without it the whole topology runs in this process)");
        var service = 0;
        if (section["Service"] is { Length: > 0 } serviceText && (!int.TryParse(serviceText, out service) || service < 1))
        {
            throw new StartupException($"--service '{serviceText}' is not a service number (1, 2, …)");
        }
        var options = new SampleOptions(role, section["Listen"], section["Upstream"], service, section["Replica"], section["Admin"]);
        if (role is Role.Sidecar or Role.Service && string.IsNullOrEmpty(options.Listen))
        {
            throw new StartupException($"--role {roleText} needs --listen IP:PORT");
        }
        if ((role == Role.Service || (role == Role.Sidecar && string.IsNullOrEmpty(options.Upstream))) && service == 0)
        {
            throw new StartupException($"--role {roleText} needs --service N (the service number it answers for)");
        }
        return options;
    }

    /// <summary>The replica name: <c>--replica</c>, else the machine name (a container id, as in the sandbox).</summary>
    public string ReplicaName => string.IsNullOrEmpty(Replica) ? Environment.MachineName : Replica;
}
