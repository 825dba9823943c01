using AdaMerging.Domain.Jobs;
using System.Text.Json;
using AdaMerging.Infrastructure.Contract;

namespace AdaMerging.Tests.Infrastructure.Contract;

public class MergeRequestTests
{
    [Fact]
    public void A_request_names_every_problem_at_once_each_with_its_pointer_and_code()
    {
        var request = new MergeRequest("magic", Guid.Empty, [new MergeTask("", Guid.Empty), new MergeTask("", Guid.NewGuid())],
            new Dictionary<string, JsonElement> { ["lambda"] = JsonSerializer.SerializeToElement("NaN"), ["a/b~c"] = JsonSerializer.SerializeToElement(1) },
            CallbackEvents: ["succeeded", "finished"]);
        var problems = request.Problems().Select(p => (p.Pointer, p.Code)).ToList();
        Assert.Contains(("/method", RequestProblemCode.Unknown), problems);
        Assert.Contains(("/base", RequestProblemCode.Required), problems);
        Assert.Contains(("/tasks/0/checkpoint", RequestProblemCode.Required), problems);
        Assert.Contains(("/tasks/1/name", RequestProblemCode.Required), problems);
        Assert.Contains(("/options/lambda", RequestProblemCode.Invalid), problems);
        Assert.Contains(("/options/a~1b~0c", RequestProblemCode.Unknown), problems); // RFC 6901 escapes
        Assert.Contains(("/callbackEvents/1", RequestProblemCode.Unknown), problems);
        Assert.Contains(request.Problems(), p => p.Detail.StartsWith("tasks[0].checkpoint", StringComparison.Ordinal));
    }

    [Fact]
    public void A_repeated_task_name_points_at_its_last_use()
    {
        var request = new MergeRequest("task_arithmetic", Guid.NewGuid(), [new MergeTask("a", Guid.NewGuid()), new MergeTask("b", Guid.NewGuid()), new MergeTask("a", Guid.NewGuid())]);
        var problem = Assert.Single(request.Problems());
        Assert.Equal(("/tasks/2/name", RequestProblemCode.Duplicate), (problem.Pointer, problem.Code));
        Assert.Contains("used 2 times", problem.Detail, StringComparison.Ordinal);
    }
}
