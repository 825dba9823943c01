using AdaMerging.Domain.Jobs;
using System.Security.Claims;
using System.Text.Json;
using AdaMerging.Api.Access;
using AdaMerging.Api.Errors;
using AdaMerging.Domain.Heads;
using AdaMerging.Domain.Store;
using AdaMerging.Infrastructure.Blobs;
using Microsoft.EntityFrameworkCore;

namespace AdaMerging.Api.Endpoints;

/// <summary>
/// POST /heads with a JSON body: a zero-shot head built from a checkpoint's text tower. Exactly one of classNames and
/// dataset, at most one of templates and templateSet (neither: the generic "a photo of a {}.").
/// </summary>
/// <param name="Checkpoint">A sealed checkpoint with a CLIP text tower (full HF CLIPModel or open_clip) and its tokenizer files.</param>
/// <param name="ClassNames">The classes in label order.</param>
/// <param name="Dataset">A dataset whose class folders name the classes (in label order), instead of classNames.</param>
/// <param name="Templates">Prompts with {} where the class name goes.</param>
/// <param name="TemplateSet">A built-in set by name (GET /heads/templates), instead of templates.</param>
/// <param name="Name">The head's name; default: the checkpoint's, the template set's and "zero-shot".</param>
public sealed record ZeroShotHeadRequest(Guid? Checkpoint, IReadOnlyList<string>? ClassNames, Guid? Dataset, IReadOnlyList<string>? Templates,
    string? TemplateSet, string? Name);

public static class ZeroShotHeadBuilder
{
    public static async Task<Head> BuildAsync(HttpRequest request, UploadServices services, ClaimsPrincipal user, CancellationToken ct)
    {
        ZeroShotHeadRequest? body;
        try
        {
            body = await request.ReadFromJsonAsync<ZeroShotHeadRequest>(JsonSerializerOptions.Web, ct);
        }
        catch (JsonException e)
        {
            throw ApiProblemException.Invalid($"the body is not a zero-shot head request: {e.Message}");
        }
        if (body is null) throw ApiProblemException.Invalid("the body is empty");
        var problems = new List<RequestProblem>();
        if (body.Checkpoint is null) problems.Add(new(RequestProblem.At("checkpoint"), RequestProblemCode.Required, "checkpoint is required"));
        if ((body.ClassNames is null) == (body.Dataset is null))
            problems.Add(new(ZeroShotHeadSpec.ClassesAt, body.ClassNames is null ? RequestProblemCode.Required : RequestProblemCode.Conflicting, "give exactly one of classNames and dataset"));
        if (body.Templates is not null && body.TemplateSet is not null)
            problems.Add(new(RequestProblem.At("templateSet"), RequestProblemCode.Conflicting, "give templates or templateSet, not both"));
        var set = body.TemplateSet is null ? null : TemplateSets.Find(body.TemplateSet);
        if (body.TemplateSet is not null && set is null)
            problems.Add(new(RequestProblem.At("templateSet"), RequestProblemCode.Unknown, $"templateSet '{body.TemplateSet}' is not one of {string.Join(", ", TemplateSets.All.Keys)}"));
        if (problems.Count > 0) throw ApiProblemException.Invalid(string.Join("; ", problems), problems);

        var checkpoint = await services.Db.Checkpoints.AsNoTracking().VisibleTo(user).SingleOrDefaultAsync(c => c.Id == body.Checkpoint, ct)
            ?? throw ApiProblemException.NotFound($"checkpoint {body.Checkpoint} does not exist");
        if (checkpoint.Status != CheckpointStatus.Sealed) throw ApiProblemException.Conflict($"checkpoint {checkpoint.Id} is not sealed yet");
        var classes = body.ClassNames ?? await DatasetClassesAsync(services, user, body.Dataset!.Value, ct);
        var templateSetName = set?.Name ?? (body.Templates is null ? "generic" : "custom");
        var spec = new ZeroShotHeadSpec(classes, body.Templates ?? set?.Templates ?? TemplateSets.All["generic"]);

        var temp = services.Blobs.NewTempPath(".safetensors");
        try
        {
            HeadInfo info;
            try
            {
                using var folder = services.Blobs.OpenFolder(checkpoint);
                info = ZeroShot.Build(folder, spec, temp, services.Limits.Value, TorchSharp.torch.CPU, ct);
            }
            catch (ZeroShotHeadException e)
            {
                throw ApiProblemException.Unprocessable("The head cannot be built", $"no zero-shot head from checkpoint {checkpoint.Id}: {e.Message}", e.Problems);
            }
            var allowance = await OwnerQuotas.UploadAllowanceAsync(services.Db, user, services.Service.Value, services.Limits.Value.MaxUploadBytes, ct);
            if (new FileInfo(temp).Length > allowance)
                throw ApiProblemException.TooLarge($"the head's {new FileInfo(temp).Length} bytes are over this owner's remaining storage", ProblemCodes.StorageQuota);
            var (sha, bytes) = await services.Blobs.ImportAsync(temp, ct);
            var name = Uploads.DisplayName(body.Name ?? $"{checkpoint.Name} zero-shot ({templateSetName})", "head");
            return new Head(Guid.NewGuid(), name, sha, bytes, info, services.Time.GetUtcNow());
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    private static async Task<IReadOnlyList<string>> DatasetClassesAsync(UploadServices services, ClaimsPrincipal user, Guid id, CancellationToken ct)
    {
        var dataset = await services.Db.Set<Dataset>().AsNoTracking().VisibleTo(user).SingleOrDefaultAsync(d => d.Id == id, ct)
            ?? throw ApiProblemException.NotFound($"dataset {id} does not exist");
        return dataset.ClassNames ?? throw ApiProblemException.Unprocessable("The head cannot be built",
            $"dataset {id} has no class names (only an image archive with one folder per class has them)",
            [new(RequestProblem.At("dataset"), RequestProblemCode.Unsupported, $"dataset {id} has no class names")]);
    }
}
