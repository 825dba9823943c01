using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace AdaMerging.Infrastructure.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class MergeHostDevice : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Device",
                table: "merges",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Host",
                table: "merges",
                type: "text",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Device",
                table: "merges");

            migrationBuilder.DropColumn(
                name: "Host",
                table: "merges");
        }
    }
}
