using System.Globalization;
using System.Text.Json.Nodes;
using AdaMerging.Domain.Methods;
using AdaMerging.Domain.Methods.Options;
using AdaMerging.Infrastructure.Contract;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace AdaMerging.Api.Setup;

/// <summary>
/// The merge request's method and options as the registry declares them: <c>method</c> an enum of the registered
/// methods, <c>options</c> a <c>MergeOptions</c> schema with every option's type, default, range, allowed values and
/// help, and which methods take it (also as <c>x-methods</c>, and per method under <c>x-merge-methods</c>); per method
/// its summary and what its tasks need under <c>x-merge-method-info</c>. A method
/// added to the registry appears here without touching this file.
/// </summary>
public sealed class MergeMethodsSchema : ISchemaFilter
{
    public const string OptionsSchemaId = "MergeOptions";

    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        if (context.Type != typeof(MergeRequest) || schema is not OpenApiSchema request || request.Properties is not { } properties) return;
        if (properties.TryGetValue("method", out var m) && m is OpenApiSchema method)
        {
            method.Enum = [.. MergeMethods.All.Select(x => (JsonNode)JsonValue.Create(x.Name))];
            method.Description = string.Join(" ", MergeMethods.All.Select(x => $"{x.Name}: {x.Summary}"));
            // Per method, for forms built from this document (the web page): its one line, and what each task must bring.
            method.Extensions ??= new Dictionary<string, IOpenApiExtension>(StringComparer.Ordinal);
            method.Extensions["x-merge-method-info"] = new JsonNodeExtension(new JsonObject(MergeMethods.All.Select(x => KeyValuePair.Create(x.Name,
                (JsonNode?)new JsonObject { ["summary"] = x.Summary, ["needsAdaptationData"] = x.NeedsAdaptationData, ["needsHeads"] = x.NeedsHeads }))));
        }
        if (properties.TryGetValue("callbackEvents", out var e) && e is OpenApiSchema { Items: OpenApiSchema events })
            events.Enum = [.. AdaMerging.Domain.Jobs.MergeProtocol.CallbackEvents.Select(x => (JsonNode)JsonValue.Create(x))];
        if (!context.SchemaRepository.Schemas.ContainsKey(OptionsSchemaId))
            context.SchemaRepository.AddDefinition(OptionsSchemaId, OptionsSchema());
        properties["options"] = new OpenApiSchemaReference(OptionsSchemaId);
    }

    private static OpenApiSchema OptionsSchema()
    {
        var byName = new SortedDictionary<string, List<(IMergeMethod Method, OptionSpec Option)>>(StringComparer.Ordinal);
        foreach (var method in MergeMethods.All)
            foreach (var option in MergeMethods.OptionsOf(method))
                (byName.TryGetValue(option.Name, out var list) ? list : byName[option.Name] = []).Add((method, option));
        var schema = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Description = "The method's options by name; an option the method does not take is refused. Unset options take their defaults.",
            AdditionalPropertiesAllowed = false,
            Properties = new Dictionary<string, IOpenApiSchema>(StringComparer.Ordinal),
            Extensions = new Dictionary<string, IOpenApiExtension>(StringComparer.Ordinal)
            {
                ["x-merge-methods"] = new JsonNodeExtension(new JsonObject(MergeMethods.All.Select(x => KeyValuePair.Create(x.Name,
                    (JsonNode?)new JsonArray([.. MergeMethods.OptionsOf(x).Select(o => (JsonNode)JsonValue.Create(o.Name))]))))),
                // Per method, the options a form shows unfolded (IMergeMethod.KeyOptions); the rest it folds.
                ["x-merge-key-options"] = new JsonNodeExtension(new JsonObject(MergeMethods.All.Select(x => KeyValuePair.Create(x.Name,
                    (JsonNode?)new JsonArray([.. x.KeyOptions.Select(o => (JsonNode)JsonValue.Create(o))]))))),
            },
        };
        foreach (var (name, uses) in byName) schema.Properties[name] = Property(uses);
        return schema;
    }

    /// <summary>
    /// One option; where methods declare it differently (DARE's and AdaMerging's seed, WUDI's and AdaMerging's learning
    /// rate) the first declaration's type and range, and each method's own help and default (also as <c>x-method-defaults</c>).
    /// </summary>
    private static OpenApiSchema Property(List<(IMergeMethod Method, OptionSpec Option)> uses)
    {
        var option = uses[0].Option;
        var methods = uses.Select(u => u.Method.Name).ToList();
        static string Default(OptionSpec o) => ToJson(o.WireDefault)?.ToJsonString() ?? "none";
        bool shared = uses.All(u => u.Option.Help == option.Help && Default(u.Option) == Default(option));
        var property = new OpenApiSchema
        {
            // The default goes to x-default and the description, not to "default": generated clients fill "default"
            // into every request, which would send one method's options to another (a 400).
            Description = shared
                ? $"{option.Help} Used by: {string.Join(", ", methods)}. Default: {Default(option)}."
                : string.Join(" ", uses.Select(u => $"{u.Method.Name}: {u.Option.Help.TrimEnd('.')} (default {Default(u.Option)}).")) + $" Used by: {string.Join(", ", methods)}.",
            Extensions = new Dictionary<string, IOpenApiExtension>(StringComparer.Ordinal)
            {
                ["x-methods"] = new JsonNodeExtension(new JsonArray([.. methods.Select(x => (JsonNode)JsonValue.Create(x))])),
            },
        };
        if (!shared)
        {
            property.Extensions["x-method-defaults"] = new JsonNodeExtension(new JsonObject(uses.Select(u => KeyValuePair.Create(u.Method.Name, ToJson(u.Option.WireDefault)))));
            // Each method's own help as data, so that a form never splits the description's English.
            property.Extensions["x-method-help"] = new JsonNodeExtension(new JsonObject(uses.Select(u => KeyValuePair.Create(u.Method.Name, (JsonNode?)JsonValue.Create(u.Option.Help)))));
        }
        if (shared && ToJson(option.WireDefault) is { } wireDefault) property.Extensions["x-default"] = new JsonNodeExtension(wireDefault);
        switch (option.Kind)
        {
            case OptionKind.Number:
                property.Type = JsonSchemaType.Number;
                property.Format = "double";
                break;
            case OptionKind.WholeNumber:
                property.Type = JsonSchemaType.Integer;
                property.Format = "int64";
                break;
            case OptionKind.Boolean:
                property.Type = JsonSchemaType.Boolean;
                break;
            case OptionKind.Choice:
                property.Type = JsonSchemaType.String;
                property.Enum = [.. option.Allowed!.Select(a => (JsonNode)JsonValue.Create(a))];
                break;
            case OptionKind.PatternList:
                property.Type = JsonSchemaType.Array;
                property.Items = new OpenApiSchema { Type = JsonSchemaType.String };
                break;
            case OptionKind.MergeId:
                property.Type = JsonSchemaType.String | JsonSchemaType.Null;
                property.Format = "uuid";
                break;
            case OptionKind.Range:
                property.Type = JsonSchemaType.Array;
                property.Items = new OpenApiSchema { Type = JsonSchemaType.Number, Format = "double" };
                property.MinItems = property.MaxItems = 2;
                break;
            case OptionKind.Coefficients:
                break; // a list, an object or coefficients.json: any JSON, as the description says

        }
        var bounded = option.Kind == OptionKind.Range ? (OpenApiSchema)property.Items! : property;   // a range's bounds are its items'
        // Where methods' ranges differ, the widest: each method still checks its own, and names it in the 400.
        var lowest = uses.Select(u => u.Option).MinBy(o => o.Minimum ?? double.NegativeInfinity)!;
        var highest = uses.Select(u => u.Option).MaxBy(o => o.Maximum ?? double.PositiveInfinity)!;
        if (lowest.Minimum is { } min && min > long.MinValue)
        {
            bounded.Minimum = min.ToString("R", CultureInfo.InvariantCulture);
            if (lowest.MinimumExclusive) bounded.ExclusiveMinimum = bounded.Minimum;
        }
        if (highest.Maximum is { } max && max < long.MaxValue)
        {
            bounded.Maximum = max.ToString("R", CultureInfo.InvariantCulture);
            if (highest.MaximumExclusive) bounded.ExclusiveMaximum = bounded.Maximum;
        }
        return property;
    }

    private static JsonNode? ToJson(object? value) => value switch
    {
        null => null,
        IEnumerable<string> list => new JsonArray([.. list.Select(x => (JsonNode)JsonValue.Create(x))]),
        IEnumerable<double> numbers => new JsonArray([.. numbers.Select(x => (JsonNode)JsonValue.Create(x))]),
        _ => JsonValue.Create(value),
    };
}
