using System.Text.Json;
using AdaMerging.Infrastructure.Contract;

namespace AdaMerging.Tests.Infrastructure.Contract;

public class MergeRequestTests
{
    [Fact]
    public void A_request_names_every_problem_at_once()
    {
        var request = new MergeRequest("magic", Guid.Empty, [new MergeTask("", Guid.Empty), new MergeTask("", Guid.NewGuid())],
            new Dictionary<string, JsonElement> { ["lambda"] = JsonSerializer.SerializeToElement("NaN") });
        var problems = request.Problems();
        Assert.Contains(problems, p => p.Contains("method 'magic' is unknown", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("base:", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("tasks[0].checkpoint", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("tasks[1].name", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("used 2 times", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("options.lambda", StringComparison.Ordinal));
    }
}
