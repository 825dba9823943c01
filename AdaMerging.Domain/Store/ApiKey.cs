using System.Security.Cryptography;
using System.Text;

namespace AdaMerging.Domain.Store;

/// <summary>
/// An API key: only its SHA-256 is stored (the secret has 256 random bits, so a fast hash is enough); the owner
/// owns everything uploaded or submitted with it; an admin key sees and touches everyone's.
/// </summary>
public sealed class ApiKey
{
    public const string SecretPrefix = "am_";

    private ApiKey() { }

    private ApiKey(Guid id, string owner, string hash, string hint, bool isAdmin, DateTimeOffset createdAt)
    {
        Id = id;
        Owner = owner;
        Hash = hash;
        Hint = hint;
        IsAdmin = isAdmin;
        CreatedAt = createdAt;
    }

    public Guid Id { get; private set; }

    public string Owner { get; private set; } = "";

    public string Hash { get; private set; } = "";

    /// <summary>The secret's first characters, to tell keys apart in listings.</summary>
    public string Hint { get; private set; } = "";

    public bool IsAdmin { get; private set; }

    public DateTimeOffset CreatedAt { get; private set; }

    public DateTimeOffset? RevokedAt { get; private set; }

    /// <summary>A new key and its secret, which is shown once and never stored.</summary>
    public static (ApiKey Key, string Secret) Create(string owner, bool isAdmin, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(owner) || owner.Length > 100 || owner.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '@')))
            throw new ArgumentException("an owner is 1-100 letters, digits, '-', '_', '.' or '@'", nameof(owner));
        var secret = SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        return (new ApiKey(Guid.NewGuid(), owner, HashOf(secret), secret[..10], isAdmin, now), secret);
    }

    public static string HashOf(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    public void Revoke(DateTimeOffset now) => RevokedAt ??= now;
}
