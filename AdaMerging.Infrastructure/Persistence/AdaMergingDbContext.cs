using AdaMerging.Domain.Jobs;
using AdaMerging.Domain.Store;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace AdaMerging.Infrastructure.Persistence;

public sealed class AdaMergingDbContext(DbContextOptions<AdaMergingDbContext> options) : DbContext(options)
{
    public DbSet<Checkpoint> Checkpoints => Set<Checkpoint>();

    public DbSet<Head> Heads => Set<Head>();

    public DbSet<Dataset> Datasets => Set<Dataset>();

    public DbSet<MergeJob> Merges => Set<MergeJob>();

    public DbSet<MergeEvent> MergeEvents => Set<MergeEvent>();

    /// <summary>Several merges of one set of inputs, compared (docs/api.md, "Experiments").</summary>
    public DbSet<Experiment> Experiments => Set<Experiment>();

    /// <summary>Every resource each merge uses, by role: what deletes query (docs/api.md, "Deleting").</summary>
    public DbSet<MergeInput> MergeInputs => Set<MergeInput>();

    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();

    public DbSet<IdempotencyRecord> IdempotencyKeys => Set<IdempotencyRecord>();

    public DbSet<ResumableUpload> Uploads => Set<ResumableUpload>();

    /// <summary>The devices live workers serve their queues with: where a merge too large for its device goes.</summary>
    public DbSet<Devices.WorkerDevice> WorkerDevices => Set<Devices.WorkerDevice>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Devices.WorkerDevice>(e =>
        {
            e.ToTable("worker_devices");
            e.HasKey(d => new { d.Server, d.Queue, d.Device });
            e.Property(d => d.Server).HasMaxLength(100);
            e.Property(d => d.Queue).HasMaxLength(20);
            e.Property(d => d.Device).HasMaxLength(40);
        });
        modelBuilder.Entity<ResumableUpload>(e =>
        {
            e.ToTable("resumable_uploads");
            e.HasKey(u => u.Id);
            e.Property(u => u.Owner).HasMaxLength(200);
            e.Property(u => u.FileName).HasMaxLength(200);
            e.Property(u => u.Target).HasConversion<string>().HasMaxLength(20);
            e.Property(u => u.ResourceName).HasMaxLength(256);
            e.Property(u => u.ExpectedSha256).HasMaxLength(64).IsFixedLength();
            e.Property(u => u.Sha256).HasMaxLength(64).IsFixedLength();
            e.Ignore(u => u.Complete);
            e.HasIndex(u => u.ExpiresAt);
        });
        modelBuilder.Entity<IdempotencyRecord>(e =>
        {
            e.ToTable("idempotency_keys");
            e.HasKey(r => new { r.Owner, r.Key });
            e.Property(r => r.Owner).HasMaxLength(200);
            e.Property(r => r.Key).HasMaxLength(255);
            e.Property(r => r.Operation).HasMaxLength(300);
            e.Property(r => r.Fingerprint).HasMaxLength(64).IsFixedLength();
            e.Property(r => r.ResponseContentType).HasMaxLength(200);
            e.Property(r => r.ResponseLocation).HasMaxLength(2000);
            e.HasIndex(r => r.ExpiresAt);
        });
        modelBuilder.Entity<Checkpoint>(e =>
        {
            e.ToTable("checkpoints");
            e.HasKey(c => c.Id);
            e.Property(c => c.Name).HasMaxLength(256);
            e.Property(c => c.Status).HasConversion<string>().HasMaxLength(16);
            e.Property(c => c.Format).HasConversion<string>().HasMaxLength(32);
            e.Property(c => c.Layout).HasMaxLength(64);
            e.Property(c => c.ConfigJson).HasColumnType("jsonb");
            e.OwnsMany(c => c.Files, f =>
            {
                f.ToTable("checkpoint_files");
                f.WithOwner().HasForeignKey("CheckpointId");
                f.HasKey("CheckpointId", nameof(CheckpointFile.FileName));
                f.Property(x => x.FileName).HasMaxLength(200);
                f.Property(x => x.Sha256).HasMaxLength(64).IsFixedLength();
            });
            e.Navigation(c => c.Files).UsePropertyAccessMode(PropertyAccessMode.Field);
        });
        ConfigureStoredBlob<Head>(modelBuilder, "heads").Ignore(h => h.Info);
        ConfigureStoredBlob<Dataset>(modelBuilder, "datasets", e =>
        {
            e.Property(d => d.Format).HasConversion<string>().HasMaxLength(32);
            e.Property(d => d.Modality).HasConversion<string>().HasMaxLength(16);
            e.Ignore(d => d.Info);
        });
        modelBuilder.Entity<ApiKey>(e =>
        {
            e.ToTable("api_keys");
            e.HasKey(k => k.Id);
            e.Property(k => k.Owner).HasMaxLength(100);
            e.Property(k => k.Hash).HasMaxLength(64).IsFixedLength();
            e.HasIndex(k => k.Hash).IsUnique();
            e.Property(k => k.Hint).HasMaxLength(16);
        });
        foreach (var owned in new[] { typeof(Checkpoint), typeof(Head), typeof(Dataset), typeof(MergeJob) })
        {
            modelBuilder.Entity(owned).Property<string>("Owner").HasMaxLength(100);
            modelBuilder.Entity(owned).HasIndex("Owner");
            modelBuilder.Entity(owned).Property<Dictionary<string, string>>(nameof(IAnnotated.Metadata)).HasColumnType("jsonb").HasConversion(
                v => System.Text.Json.JsonSerializer.Serialize(v, System.Text.Json.JsonSerializerOptions.Web),
                v => System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string>>(v, System.Text.Json.JsonSerializerOptions.Web) ?? new Dictionary<string, string>(),
                new Microsoft.EntityFrameworkCore.ChangeTracking.ValueComparer<Dictionary<string, string>>(
                    (a, b) => a!.Count == b!.Count && !a.Except(b).Any(), v => v.Count, v => new Dictionary<string, string>(v)));
        }
        modelBuilder.Entity<MergeJob>(e =>
        {
            e.ToTable("merges");
            e.HasKey(m => m.Id);
            e.Property(m => m.Method).HasMaxLength(64);
            e.Property(m => m.RequestJson).HasColumnType("jsonb");
            // A change of status saved over another's fails (DbUpdateConcurrencyException), so a worker that read a
            // merge before its owner cancelled it cannot start or finish it over the cancellation (docs/api.md, "Cancelling").
            e.Property(m => m.Status).HasConversion<string>().HasMaxLength(16).IsConcurrencyToken();
            e.Property(m => m.ResultFiles).HasColumnType("jsonb").HasConversion(
                v => System.Text.Json.JsonSerializer.Serialize(v, System.Text.Json.JsonSerializerOptions.Web),
                v => System.Text.Json.JsonSerializer.Deserialize<List<CheckpointFile>>(v, System.Text.Json.JsonSerializerOptions.Web) ?? new List<CheckpointFile>(),
                new Microsoft.EntityFrameworkCore.ChangeTracking.ValueComparer<List<CheckpointFile>>(
                    (a, b) => a!.SequenceEqual(b!), v => v.Count, v => v.ToList()));
            e.Property(m => m.ReportJson).HasColumnType("jsonb");
            e.Property(m => m.Phase).HasMaxLength(16);
            e.HasIndex(m => new { m.Status, m.CreatedAt });
            e.Property(m => m.QueueJobId).HasMaxLength(64);
        });
        modelBuilder.Entity<Experiment>(e =>
        {
            e.ToTable("experiments");
            e.HasKey(x => x.Id);
            e.Property(x => x.Name).HasMaxLength(256);
            e.Property(x => x.Owner).HasMaxLength(100);
            e.HasIndex(x => x.Owner);
            e.HasIndex(x => x.CreatedAt);
            e.Property(x => x.Runs).HasColumnType("jsonb").HasConversion(
                v => System.Text.Json.JsonSerializer.Serialize(v, System.Text.Json.JsonSerializerOptions.Web),
                v => System.Text.Json.JsonSerializer.Deserialize<List<ExperimentRun>>(v, System.Text.Json.JsonSerializerOptions.Web) ?? new List<ExperimentRun>(),
                new Microsoft.EntityFrameworkCore.ChangeTracking.ValueComparer<List<ExperimentRun>>(
                    (a, b) => a!.SequenceEqual(b!), v => v.Count, v => v.ToList()));
        });
        modelBuilder.Entity<MergeInput>(e =>
        {
            e.ToTable("merge_inputs");
            e.HasKey(i => i.Id);
            e.Property(i => i.Id).UseIdentityAlwaysColumn();
            e.Property(i => i.Role).HasConversion<string>().HasMaxLength(16);
            e.Property(i => i.Task).HasMaxLength(256);
            e.HasIndex(i => i.ResourceId);
            e.HasOne<MergeJob>().WithMany().HasForeignKey(i => i.MergeId).OnDelete(DeleteBehavior.Cascade); // a deleted merge takes its rows along
        });
        modelBuilder.Entity<MergeEvent>(e =>
        {
            e.ToTable("merge_events");
            e.HasKey(v => v.Id);
            e.Property(v => v.Id).UseIdentityAlwaysColumn();
            e.Property(v => v.Type).HasMaxLength(16);
            e.Property(v => v.Message).HasMaxLength(2000);
            e.Property(v => v.Phase).HasMaxLength(16);
            e.Property(v => v.ErrorCode).HasMaxLength(64);
            e.HasIndex(v => new { v.MergeId, v.Id });
            e.HasOne<MergeJob>().WithMany().HasForeignKey(v => v.MergeId).OnDelete(DeleteBehavior.Cascade); // a deleted merge takes its events along
        });
    }

    /// <summary>The columns every single-file resource shares (<see cref="StoredBlob"/>).</summary>
    private static EntityTypeBuilder<T> ConfigureStoredBlob<T>(ModelBuilder modelBuilder, string table, Action<EntityTypeBuilder<T>>? more = null)
        where T : StoredBlob
    {
        var e = modelBuilder.Entity<T>();
        e.ToTable(table);
        e.HasKey(x => x.Id);
        e.Property(x => x.Name).HasMaxLength(256);
        e.Property(x => x.Sha256).HasMaxLength(64).IsFixedLength();
        more?.Invoke(e);
        return e;
    }
}
