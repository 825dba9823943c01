using System.Security.Cryptography;
using System.Text;
using AdaMerging.Infrastructure.Options;
using Microsoft.Extensions.Options;

namespace AdaMerging.Infrastructure.Jobs;

/// <summary>
/// Each owner's Standard Webhooks signing secret ("whsec_" + base64 of 32 bytes): HMAC-SHA256 of the owner's name under
/// the service's master key, so no secret is stored per owner. The master key is <c>WebhookSigningKey</c> (base64) or,
/// when unset, 32 random bytes created once in <c>{DataRoot}/webhook-signing.key</c> (mode 600), shared by every host.
/// </summary>
public sealed class WebhookSecrets(IOptions<AdaMergingOptions> options)
{
    private const string FileName = "webhook-signing.key";
    private readonly Lazy<byte[]> _master = new(() => LoadMaster(options.Value));

    public string For(string owner) => "whsec_" + Convert.ToBase64String(HMACSHA256.HashData(_master.Value, Encoding.UTF8.GetBytes("owner:" + owner)));

    private static byte[] LoadMaster(AdaMergingOptions options)
    {
        if (!string.IsNullOrEmpty(options.WebhookSigningKey)) return Convert.FromBase64String(options.WebhookSigningKey);
        var path = Path.Combine(Path.GetFullPath(options.DataRoot), FileName);
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var temp = $"{path}.{Environment.ProcessId}.tmp";
            File.WriteAllBytes(temp, RandomNumberGenerator.GetBytes(32));
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            try
            {
                File.Move(temp, path, overwrite: false); // the first host to create it wins; the others read it
            }
            catch (IOException)
            {
                File.Delete(temp);
            }
        }
        return File.ReadAllBytes(path);
    }
}
