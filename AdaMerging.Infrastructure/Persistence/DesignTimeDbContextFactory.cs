using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace AdaMerging.Infrastructure.Persistence;

/// <summary>Lets `dotnet ef migrations add` build the model without a running database.</summary>
public sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<AdaMergingDbContext>
{
    public AdaMergingDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<AdaMergingDbContext>().UseNpgsql("Host=localhost;Database=design").Options);
}
