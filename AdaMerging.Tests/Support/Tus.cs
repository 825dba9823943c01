using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace AdaMerging.Tests.Support;

/// <summary>A tus 1.0 client's requests, written out by hand so the tests see every header.</summary>
public static class Tus
{
    public static string Metadata(params (string Key, string Value)[] pairs) =>
        string.Join(",", pairs.Select(p => $"{p.Key} {Convert.ToBase64String(Encoding.UTF8.GetBytes(p.Value))}"));

    public static HttpRequestMessage Create(long length, string metadata)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/uploads");
        request.Headers.Add("Tus-Resumable", "1.0.0");
        request.Headers.Add("Upload-Length", length.ToString(CultureInfo.InvariantCulture));
        request.Headers.Add("Upload-Metadata", metadata);
        return request;
    }

    public static async Task<string> CreateAsync(HttpClient client, string checkpoint, string fileName, byte[] bytes, string? sha256 = null)
    {
        sha256 ??= Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
        using var request = Create(bytes.Length, Metadata(("checkpoint", checkpoint), ("filename", fileName), ("sha256", sha256)));
        using var response = await client.SendAsync(request);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return response.Headers.Location!.ToString();
    }

    public static HttpRequestMessage Patch(string location, long offset, HttpContent body)
    {
        body.Headers.ContentType = new MediaTypeHeaderValue("application/offset+octet-stream");
        var request = new HttpRequestMessage(HttpMethod.Patch, location) { Content = body };
        request.Headers.Add("Tus-Resumable", "1.0.0");
        request.Headers.Add("Upload-Offset", offset.ToString(CultureInfo.InvariantCulture));
        return request;
    }

    public static async Task<HttpResponseMessage> HeadAsync(HttpClient client, string location)
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, location);
        request.Headers.Add("Tus-Resumable", "1.0.0");
        return await client.SendAsync(request);
    }

    /// <summary>The Upload-Offset HEAD reports.</summary>
    public static async Task<long> OffsetAsync(HttpClient client, string location)
    {
        using var head = await HeadAsync(client, location);
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        return long.Parse(head.Headers.GetValues("Upload-Offset").Single(), CultureInfo.InvariantCulture);
    }
}
