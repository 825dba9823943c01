using System.Text.Json;
using System.Text.RegularExpressions;

namespace AdaMerging.Tests.Deployment;

/// <summary>The deployment files keep what docs/deployment.md promises (issue 16); test.sh also validates and lints them.</summary>
public sealed partial class DeploymentFilesTests
{
    private static readonly string Root = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "AdaMerging.slnx"))) return dir.FullName;
        throw new InvalidOperationException("the repository root (AdaMerging.slnx) is not above the test binaries");
    }

    private static string Read(string name) => File.ReadAllText(Path.Combine(Root, name));

    [GeneratedRegex(@"^  ([a-z-]+):\n((?:    .*\n|\n)*)", RegexOptions.Multiline)]
    private static partial Regex ComposeService();

    [Fact]
    public void The_API_image_is_built_on_the_CPU_libtorch_and_its_restore_graph_has_no_CUDA_package()
    {
        var dockerfile = Read("Dockerfile");
        var apiStage = dockerfile[dockerfile.IndexOf("AS build-api", StringComparison.Ordinal)..dockerfile.IndexOf("AS build-worker", StringComparison.Ordinal)];
        Assert.Contains("dotnet publish AdaMerging.Api -c Release -o /out/api -p:TorchBackend=cpu", apiStage, StringComparison.Ordinal);
        Assert.Contains("COPY --from=build-api /out/api ./", dockerfile, StringComparison.Ordinal);
        Assert.DoesNotContain("TORCH_BACKEND", apiStage, StringComparison.Ordinal);

        // The restore graph the API was built with here (TorchBackend=cpu, the default and what the image uses).
        using var assets = JsonDocument.Parse(Read("AdaMerging.Api/obj/project.assets.json"));
        var libraries = assets.RootElement.GetProperty("libraries").EnumerateObject().Select(l => l.Name).ToList();
        Assert.Contains(libraries, l => l.StartsWith("libtorch-cpu-linux-x64/", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(libraries, l => l.Contains("cuda", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void The_worker_image_carries_the_device_check_and_the_reference_fixtures_it_compares_against()
    {
        var dockerfile = Read("Dockerfile");
        var worker = dockerfile[dockerfile.LastIndexOf("AS worker", StringComparison.Ordinal)..];
        Assert.Contains("COPY --chmod=755 scripts/gpu-check.sh ./", worker, StringComparison.Ordinal);
        // The worker project links these fixtures into reference/; the image's build stage must have them.
        var sources = dockerfile[..dockerfile.IndexOf("AS build-api", StringComparison.Ordinal)];
        foreach (var fixture in new[] { "clip_tiny", "clip_text" })
        {
            Assert.Contains($"COPY AdaMerging.Tests/Fixtures/{fixture}/ AdaMerging.Tests/Fixtures/{fixture}/", sources, StringComparison.Ordinal);
            Assert.Contains($@"..\AdaMerging.Tests\Fixtures\{fixture}\*"" LinkBase=""reference\{fixture}""", Read("AdaMerging.Worker/AdaMerging.Worker.csproj"), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_build_context_leaves_out_data_and_build_outputs()
    {
        var ignored = Read(".dockerignore").Split('\n', StringSplitOptions.TrimEntries);
        Assert.Contains("data/", ignored);
        Assert.Contains("**/bin/", ignored);
        Assert.Contains("**/obj/", ignored);
        Assert.Contains(".env", ignored);
    }

    [Fact]
    public void Compose_runs_four_services_with_restart_and_health_checks_and_takes_secrets_from_the_env_file()
    {
        var compose = Read("docker-compose.yml");
        var services = ComposeService().Matches(compose[compose.IndexOf("services:", StringComparison.Ordinal)..compose.IndexOf("\nvolumes:", StringComparison.Ordinal)])
            .ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value);
        Assert.Equal(["api", "cpu-worker", "gpu-worker", "postgres"], services.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, body) in services)
        {
            Assert.Contains("restart: unless-stopped", body, StringComparison.Ordinal);
            Assert.Contains("healthcheck:", body, StringComparison.Ordinal);
        }
        Assert.Contains("driver: nvidia", services["gpu-worker"], StringComparison.Ordinal);
        Assert.Contains("AdaMerging__WorkerCount: \"-1\"", services["cpu-worker"], StringComparison.Ordinal);
        Assert.Contains("${POSTGRES_PASSWORD:?", compose, StringComparison.Ordinal);
        Assert.DoesNotContain("Password=adamerging", compose, StringComparison.Ordinal);
        Assert.Contains("keys create --owner admin --admin true", compose, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(Root, ".env.example")), ".env.example is missing");
        // Every container its own host id (its hostname), so `--scale cpu-worker=3` gives three hosts, not one host thrice.
        Assert.DoesNotContain("AdaMerging__HostId", compose, StringComparison.Ordinal);
        // A host with no database configured must stop, not start an embedded one: compose names the shared one everywhere.
        Assert.DoesNotContain("EmbeddedDatabase", compose, StringComparison.Ordinal);
        Assert.All(services.Where(s => s.Key != "postgres"), s => Assert.Contains("<<: *database", s.Value, StringComparison.Ordinal));
    }
}
