using AdaMerging.Domain.Jobs;
using AdaMerging.Domain.Store;
using Microsoft.EntityFrameworkCore;

namespace AdaMerging.Infrastructure.Persistence;

public sealed class AdaMergingDbContext(DbContextOptions<AdaMergingDbContext> options) : DbContext(options)
{
    public DbSet<Checkpoint> Checkpoints => Set<Checkpoint>();

    public DbSet<MergeJob> Merges => Set<MergeJob>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Checkpoint>(e =>
        {
            e.ToTable("checkpoints");
            e.HasKey(c => c.Id);
            e.Property(c => c.Name).HasMaxLength(256);
            e.Property(c => c.Sha256).HasMaxLength(64).IsFixedLength();
            e.HasIndex(c => c.Sha256);
        });
        modelBuilder.Entity<MergeJob>(e =>
        {
            e.ToTable("merges");
            e.HasKey(m => m.Id);
            e.Property(m => m.Method).HasMaxLength(64);
            e.Property(m => m.RequestJson).HasColumnType("jsonb");
            e.Property(m => m.Status).HasConversion<string>().HasMaxLength(16);
            e.Property(m => m.ResultSha256).HasMaxLength(64).IsFixedLength();
            e.HasIndex(m => new { m.Status, m.CreatedAt });
        });
    }
}
