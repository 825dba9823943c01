using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace AdaMerging.Api.Access;

/// <summary>What a download link grants: one result of one merge, to the holder of the link, until it expires.</summary>
public sealed record DownloadGrant(Guid KeyId, Guid MergeId, string File, DateTimeOffset ExpiresAt);

/// <summary>
/// Download links for callers that cannot send the key header (a browser's download, a plain <c>curl</c>, a colleague):
/// the grant in the URL, signed with HMAC-SHA256 keyed by the creating key's stored hash. Only the server and that
/// key's holder can make one; revoking the key ends all of its links (docs/api.md, "Download links").
/// </summary>
public static class DownloadLinks
{
    public static string Token(DownloadGrant grant, string keyHash)
    {
        var payload = Payload(grant);
        return payload + "." + Base64Url(Signature(payload, keyHash));
    }

    /// <summary>The grant a token states, or null if it is not a token's shape; its signature is checked by <see cref="Verify"/>.</summary>
    public static DownloadGrant? Read(string token)
    {
        var parts = token.Split('.');
        if (parts.Length != 5 || !Guid.TryParseExact(parts[0], "N", out var key) || !Guid.TryParseExact(parts[1], "N", out var merge)
            || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds > 253402300799
            || FromBase64Url(parts[3]) is not { } file)
            return null;
        return new DownloadGrant(key, merge, Encoding.UTF8.GetString(file), DateTimeOffset.FromUnixTimeSeconds(seconds));
    }

    /// <summary>True when <paramref name="token"/> is exactly the token of <paramref name="grant"/> under <paramref name="keyHash"/>.</summary>
    public static bool Verify(string token, DownloadGrant grant, string keyHash) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(token), Encoding.ASCII.GetBytes(Token(grant, keyHash)));

    private static string Payload(DownloadGrant g) => string.Join('.', g.KeyId.ToString("N"), g.MergeId.ToString("N"),
        g.ExpiresAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), Base64Url(Encoding.UTF8.GetBytes(g.File)));

    private static byte[] Signature(string payload, string keyHash) =>
        HMACSHA256.HashData(Encoding.UTF8.GetBytes("adamerging-download:" + keyHash), Encoding.UTF8.GetBytes(payload));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[]? FromBase64Url(string text)
    {
        if (text.Length == 0 || text.Length > 1024 || text.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))) return null;
        var padded = text.Replace('-', '+').Replace('_', '/') + new string('=', (4 - text.Length % 4) % 4);
        try
        {
            return Convert.FromBase64String(padded);
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
