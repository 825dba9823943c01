using System.Net;
using System.Text.Json;

namespace AdaMerging.Tests.Support;

public static class Problems
{
    /// <summary>Asserts an application/problem+json answer with <paramref name="expected"/> status and returns it.</summary>
    public static async Task<JsonElement> ReadAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(text).RootElement;
        Assert.Equal((int)expected, problem.GetProperty("status").GetInt32());
        return problem;
    }

    /// <summary>The detail and every listed error's detail, as one text to search.</summary>
    public static string Text(JsonElement problem) =>
        problem.GetProperty("detail").GetString() + string.Concat(Errors(problem).Select(e => " | " + e.Detail));

    /// <summary>The answer's <c>errors</c>: each entry's pointer (null when it has none), code and detail; empty when it has none.</summary>
    public static IReadOnlyList<(string? Pointer, string Code, string Detail)> Errors(JsonElement problem) =>
        problem.TryGetProperty("errors", out var errors)
            ? [.. errors.EnumerateArray().Select(e => (e.TryGetProperty("pointer", out var p) ? p.GetString() : null,
                e.GetProperty("code").GetString()!, e.GetProperty("detail").GetString()!))]
            : [];
}
