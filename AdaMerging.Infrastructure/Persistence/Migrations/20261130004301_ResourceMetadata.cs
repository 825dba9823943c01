using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace AdaMerging.Infrastructure.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class ResourceMetadata : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Metadata",
                table: "merges",
                type: "jsonb",
                nullable: false,
                defaultValueSql: "'{}'::jsonb");

            migrationBuilder.AddColumn<string>(
                name: "Metadata",
                table: "heads",
                type: "jsonb",
                nullable: false,
                defaultValueSql: "'{}'::jsonb");

            migrationBuilder.AddColumn<string>(
                name: "Metadata",
                table: "datasets",
                type: "jsonb",
                nullable: false,
                defaultValueSql: "'{}'::jsonb");

            migrationBuilder.AddColumn<string>(
                name: "Metadata",
                table: "checkpoints",
                type: "jsonb",
                nullable: false,
                defaultValueSql: "'{}'::jsonb");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Metadata",
                table: "merges");

            migrationBuilder.DropColumn(
                name: "Metadata",
                table: "heads");

            migrationBuilder.DropColumn(
                name: "Metadata",
                table: "datasets");

            migrationBuilder.DropColumn(
                name: "Metadata",
                table: "checkpoints");
        }
    }
}
