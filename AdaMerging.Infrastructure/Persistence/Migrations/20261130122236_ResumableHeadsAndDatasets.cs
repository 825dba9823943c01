using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace AdaMerging.Infrastructure.Persistence.Migrations
{
    /// <summary>Resumable uploads of heads and datasets besides checkpoint files (docs/api.md, "Resumable uploads").</summary>
    public partial class ResumableHeadsAndDatasets : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AlterColumn<Guid>(
                name: "CheckpointId",
                table: "resumable_uploads",
                type: "uuid",
                nullable: true,
                oldClrType: typeof(Guid),
                oldType: "uuid");

            migrationBuilder.AddColumn<Guid>(
                name: "ResourceId",
                table: "resumable_uploads",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "ResourceName",
                table: "resumable_uploads",
                type: "character varying(256)",
                maxLength: 256,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Target",
                table: "resumable_uploads",
                type: "character varying(20)",
                maxLength: 20,
                nullable: false,
                defaultValue: "Checkpoint"); // every upload before this migration was a checkpoint file
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "ResourceId",
                table: "resumable_uploads");

            migrationBuilder.DropColumn(
                name: "ResourceName",
                table: "resumable_uploads");

            migrationBuilder.DropColumn(
                name: "Target",
                table: "resumable_uploads");

            migrationBuilder.AlterColumn<Guid>(
                name: "CheckpointId",
                table: "resumable_uploads",
                type: "uuid",
                nullable: false,
                defaultValue: new Guid("00000000-0000-0000-0000-000000000000"),
                oldClrType: typeof(Guid),
                oldType: "uuid",
                oldNullable: true);
        }
    }
}
