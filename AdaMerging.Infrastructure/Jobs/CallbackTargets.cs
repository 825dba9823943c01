using System.Net;
using System.Net.Sockets;

namespace AdaMerging.Infrastructure.Jobs;

/// <summary>A callback whose target resolves only to addresses callbacks may not reach.</summary>
public sealed class CallbackRefusedException(string message) : Exception(message);

/// <summary>
/// Where callbacks may go: never to loopback, private, shared (CGNAT), link-local (cloud metadata at 169.254.169.254
/// among them), unique-local or unspecified addresses, unless the operator's <c>CallbackAllowList</c> names the address,
/// its network (CIDR) or the host name. Checked on the addresses the name resolves to when the callback is sent, and the
/// connection goes to the address that was checked, so a name that re-resolves elsewhere (DNS rebinding) gains nothing.
/// </summary>
public sealed class CallbackTargets(IReadOnlyList<string> allowList)
{
    private readonly IReadOnlyList<string> _names = allowList.Where(a => a.Length > 0 && !IPNetwork.TryParse(a, out _) && !IPAddress.TryParse(a, out _)).ToList();
    private readonly IReadOnlyList<IPNetwork> _networks = allowList.Select(Network).OfType<IPNetwork>().ToList();

    private static readonly IPNetwork[] Forbidden =
    [
        IPNetwork.Parse("0.0.0.0/8"), IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("100.64.0.0/10"), IPNetwork.Parse("127.0.0.0/8"),
        IPNetwork.Parse("169.254.0.0/16"), IPNetwork.Parse("172.16.0.0/12"), IPNetwork.Parse("192.168.0.0/16"),
        IPNetwork.Parse("::/128"), IPNetwork.Parse("::1/128"), IPNetwork.Parse("fc00::/7"), IPNetwork.Parse("fe80::/10"),
    ];

    /// <summary>Why the address is refused, or null when callbacks may reach it.</summary>
    public string? Refusal(IPAddress address, string host)
    {
        var a = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        if (_names.Contains(host, StringComparer.OrdinalIgnoreCase) || _networks.Any(n => n.Contains(a))) return null;
        foreach (var range in Forbidden)
            if (range.Contains(a)) return $"{a} is in {range}, a loopback, private, link-local or metadata range (AdaMerging:CallbackAllowList can allow it)";
        return null;
    }

    /// <summary>Resolves the host, refuses if every address is forbidden, and connects to the first allowed one.</summary>
    public async ValueTask<Stream> ConnectAsync(DnsEndPoint endpoint, CancellationToken ct)
    {
        var addresses = IPAddress.TryParse(endpoint.Host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(endpoint.Host, ct);
        var refusals = addresses.Select(a => (Address: a, Why: Refusal(a, endpoint.Host))).ToList();
        var allowed = refusals.FirstOrDefault(r => r.Why is null).Address
            ?? throw new CallbackRefusedException(refusals.Count == 0 ? $"{endpoint.Host} does not resolve" : refusals[0].Why!);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(new IPEndPoint(allowed, endpoint.Port), ct);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static IPNetwork? Network(string entry) =>
        IPNetwork.TryParse(entry, out var network) ? network
        : IPAddress.TryParse(entry, out var address) ? new IPNetwork(address, address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128)
        : null;
}
