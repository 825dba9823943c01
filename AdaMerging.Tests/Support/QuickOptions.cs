using AdaMerging.Domain.Methods;

namespace AdaMerging.Tests.Support;

/// <summary>Options that keep each registered method quick on the tests' tiny models (defaults for the others); loops take methods from the registry.</summary>
public static class QuickOptions
{
    public static object For(IMergeMethod method) => method.Name switch
    {
        "adamerging" or "adarank" => new { steps = 2, batchSize = 4 },
        "regmean" => new { regmeanExamples = 8 },
        _ => new { },
    };
}
