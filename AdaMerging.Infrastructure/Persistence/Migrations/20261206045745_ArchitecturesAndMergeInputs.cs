using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace AdaMerging.Infrastructure.Persistence.Migrations
{
    /// <summary>
    /// Datasets say their modality (every earlier one holds images); checkpoint layouts are the architecture registry's
    /// wire names; a merge's inputs become rows (filled here from every stored request), which deletes query.
    /// </summary>
    public partial class ArchitecturesAndMergeInputs : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "FeatureSize",
                table: "datasets",
                type: "integer",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Modality",
                table: "datasets",
                type: "character varying(16)",
                maxLength: 16,
                nullable: false,
                defaultValue: "Images"); // every dataset before this migration held images

            migrationBuilder.AlterColumn<string>(
                name: "Layout",
                table: "checkpoints",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true,
                oldClrType: typeof(string),
                oldType: "character varying(32)",
                oldMaxLength: 32,
                oldNullable: true);

            migrationBuilder.CreateTable(
                name: "merge_inputs",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityAlwaysColumn),
                    MergeId = table.Column<Guid>(type: "uuid", nullable: false),
                    ResourceId = table.Column<Guid>(type: "uuid", nullable: false),
                    Role = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Task = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_merge_inputs", x => x.Id);
                    table.ForeignKey(
                        name: "FK_merge_inputs_merges_MergeId",
                        column: x => x.MergeId,
                        principalTable: "merges",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_merge_inputs_MergeId",
                table: "merge_inputs",
                column: "MergeId");

            migrationBuilder.CreateIndex(
                name: "IX_merge_inputs_ResourceId",
                table: "merge_inputs",
                column: "ResourceId");

            // The enum's names as stored before → the registry's layouts (ClipVisionArchitecture, ModelArchitectures).
            migrationBuilder.Sql("""
                UPDATE checkpoints SET "Layout" = CASE "Layout"
                    WHEN 'HuggingFaceClipVision' THEN 'hugging_face_clip_vision'
                    WHEN 'OpenClip' THEN 'open_clip'
                    WHEN 'Unknown' THEN 'unknown'
                    ELSE "Layout" END;
                """);
            // Every existing merge's inputs, as MergeRequest.Inputs writes them for new ones.
            migrationBuilder.Sql("""
                INSERT INTO merge_inputs ("MergeId", "ResourceId", "Role", "Task")
                SELECT m."Id", (m."RequestJson"->>'base')::uuid, 'Base', NULL FROM merges m
                WHERE m."RequestJson"->>'base' ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                UNION ALL
                SELECT m."Id", (t.value->>r.field)::uuid, r.role, t.value->>'name'
                FROM merges m
                CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(m."RequestJson"->'tasks') = 'array' THEN m."RequestJson"->'tasks' ELSE '[]'::jsonb END) t
                CROSS JOIN (VALUES ('checkpoint', 'Checkpoint'), ('head', 'Head'), ('adaptationData', 'AdaptationData'), ('evaluationData', 'EvaluationData')) AS r(field, role)
                WHERE t.value->>r.field ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                UNION ALL
                SELECT m."Id", (m."RequestJson"->'options'->>'coefficientsFrom')::uuid, 'Coefficients', NULL FROM merges m
                WHERE m."RequestJson"->'options'->>'coefficientsFrom' ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                UPDATE checkpoints SET "Layout" = CASE "Layout"
                    WHEN 'hugging_face_clip_vision' THEN 'HuggingFaceClipVision'
                    WHEN 'open_clip' THEN 'OpenClip'
                    WHEN 'unknown' THEN 'Unknown'
                    ELSE "Layout" END;
                """);

            migrationBuilder.DropTable(
                name: "merge_inputs");

            migrationBuilder.DropColumn(
                name: "FeatureSize",
                table: "datasets");

            migrationBuilder.DropColumn(
                name: "Modality",
                table: "datasets");

            migrationBuilder.AlterColumn<string>(
                name: "Layout",
                table: "checkpoints",
                type: "character varying(32)",
                maxLength: 32,
                nullable: true,
                oldClrType: typeof(string),
                oldType: "character varying(64)",
                oldMaxLength: 64,
                oldNullable: true);
        }
    }
}
