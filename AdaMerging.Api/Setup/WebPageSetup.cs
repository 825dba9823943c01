using Microsoft.Extensions.FileProviders;

namespace AdaMerging.Api.Setup;

/// <summary>
/// The service's own web page (docs/web.md): static files under /ui, public like the OpenAPI document (the page asks
/// for a key and sends it with every call it makes), and / leads there. Nothing is fetched from elsewhere: the
/// Content-Security-Policy allows this origin only.
/// </summary>
public static class WebPageSetup
{
    public const string Path = "/ui";

    private const string ContentSecurityPolicy = "default-src 'self'; img-src 'self' blob: data:; script-src 'self'; style-src 'self'; "
        + "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    public static WebApplication MapWebPage(this WebApplication app)
    {
        var folder = System.IO.Path.Combine(app.Environment.ContentRootPath, "wwwroot", "ui");
        if (!Directory.Exists(folder)) throw new InvalidOperationException($"the web page's files are missing: {folder}");
        var files = new PhysicalFileProvider(folder);
        app.MapGet("/", () => TypedResults.Redirect(Path + "/")).AllowAnonymous().ExcludeFromDescription();
        app.UseDefaultFiles(new DefaultFilesOptions { RequestPath = Path, FileProvider = files });
        app.UseStaticFiles(new StaticFileOptions
        {
            RequestPath = Path,
            FileProvider = files,
            OnPrepareResponse = context =>
            {
                var headers = context.Context.Response.Headers;
                headers.ContentSecurityPolicy = ContentSecurityPolicy;
                headers.XContentTypeOptions = "nosniff";
                headers["Referrer-Policy"] = "no-referrer"; // download links carry their grant in the URL
                headers.CacheControl = "no-cache"; // revalidated (ETag): a new version of the service is seen at once
            },
        });
        return app;
    }
}
