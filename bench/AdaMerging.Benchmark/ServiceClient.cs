using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AdaMerging.Benchmark;

/// <summary>The service's HTTP API as the benchmark uses it: uploads, merges, polling, reports, downloads.</summary>
public sealed class ServiceClient(HttpClient http) : IDisposable
{
    public static ServiceClient Create(string url, string key)
    {
        var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromMinutes(10) };
        http.DefaultRequestHeaders.Add("X-Api-Key", key);
        return new ServiceClient(http);
    }

    /// <summary>A Hugging Face folder (config.json + model.safetensors, or the files named) as one multipart upload.</summary>
    public async Task<string> UploadCheckpointAsync(string folder, string name, params string[] files)
    {
        using var form = new MultipartFormDataContent();
        // By default every file of the folder (config.json, model.safetensors, a ResNet's preprocessor_config.json).
        foreach (var file in files.Length > 0 ? files : System.IO.Directory.GetFiles(folder).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToArray())
        {
            var part = new StreamContent(File.OpenRead(Path.Combine(folder, file)));
            part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(part, "files", file);
        }
        return await IdOf(await http.PostAsync($"/checkpoints?name={Uri.EscapeDataString(name)}", form), $"checkpoint {name}");
    }

    public async Task<string> UploadFileAsync(string resource, string path, string name)
    {
        using var body = new StreamContent(File.OpenRead(path));
        body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return await IdOf(await http.PostAsync($"/{resource}?name={Uri.EscapeDataString(name)}", body), $"{resource} {name}");
    }

    /// <summary>POST /heads/zero-shot (a zero-shot head from class names).</summary>
    public async Task<string> BuildHeadAsync(JsonObject request)
    {
        using var response = await http.PostAsJsonAsync("/heads/zero-shot", request);
        return await IdOf(response, "zero-shot head");
    }

    /// <summary>POST /merges; while the owner's merge quota is full (429), waits as Retry-After says and submits again.</summary>
    public async Task<string> SubmitAsync(JsonObject request)
    {
        while (true)
        {
            using var response = await http.PostAsJsonAsync("/merges", request);
            if (response.StatusCode != HttpStatusCode.TooManyRequests) return await IdOf(response, $"merge {request["method"]}");
            await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(10));
        }
    }

    public async Task<JsonObject> MergeAsync(string id) => (await http.GetFromJsonAsync<JsonObject>($"/merges/{id}"))!;

    public async Task<JsonObject> ReportAsync(string id) => (await http.GetFromJsonAsync<JsonObject>($"/merges/{id}/report"))!;

    public async Task DownloadAsync(string path, string target)
    {
        using var response = await http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead);
        await EnsureSuccess(response, path);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        await using var file = File.Create(target);
        await response.Content.CopyToAsync(file);
    }

    private static async Task<string> IdOf(HttpResponseMessage response, string what)
    {
        await EnsureSuccess(response, what);
        var body = await response.Content.ReadFromJsonAsync<JsonObject>();
        return body?["id"]?.GetValue<string>() ?? throw new InvalidOperationException($"{what}: the response has no id");
    }

    private static async Task EnsureSuccess(HttpResponseMessage response, string what)
    {
        if (response.IsSuccessStatusCode) return;
        throw new InvalidOperationException($"{what}: HTTP {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    public void Dispose() => http.Dispose();
}

internal static class JsonNodes
{
    public static double? Number(this JsonNode? node) => node is JsonValue v && v.TryGetValue<double>(out var d) ? d : null;
}
