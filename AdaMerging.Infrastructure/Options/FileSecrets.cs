using System.Collections;
using Microsoft.Extensions.Configuration;

namespace AdaMerging.Infrastructure.Options;

/// <summary>
/// Docker and Kubernetes secrets: a variable named like a setting with <c>_FILE</c> after it
/// (<c>ConnectionStrings__Postgres_FILE=/run/secrets/db</c>) gives that setting the file's content, trailing newline
/// removed, so that a secret never sits in the environment or in <c>docker inspect</c> (docs/deployment.md, "Secrets").
/// Added last, it wins over the plain variable.
/// </summary>
public static class FileSecrets
{
    public const string Suffix = "_FILE";

    private static readonly string[] Prefixes = ["ConnectionStrings__", "AdaMerging__", "Serilog__", "OTEL_"];

    public static IConfigurationBuilder AddFileSecrets(this IConfigurationBuilder builder) =>
        builder.AddInMemoryCollection(Read(Environment.GetEnvironmentVariables()));

    /// <summary>The settings the <c>*_FILE</c> variables name, read from their files; a file that cannot be read stops the host naming it.</summary>
    public static Dictionary<string, string?> Read(IDictionary variables)
    {
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (DictionaryEntry variable in variables)
        {
            // Only this service's settings: other programs' *_FILE variables (TF_CLI_CONFIG_FILE, …) are theirs.
            if (variable.Key is not string name || !name.EndsWith(Suffix, StringComparison.Ordinal)
                || !Prefixes.Any(p => name.StartsWith(p, StringComparison.OrdinalIgnoreCase))) continue;
            var path = variable.Value as string ?? "";
            string content;
            try
            {
                content = File.ReadAllText(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                throw new InvalidOperationException($"{name} names '{path}', which cannot be read: {e.Message}", e);
            }
            settings[name[..^Suffix.Length].Replace("__", ":", StringComparison.Ordinal)] = content.TrimEnd('\r', '\n');
        }
        return settings;
    }
}
