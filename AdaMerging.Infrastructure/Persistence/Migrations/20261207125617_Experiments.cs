using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace AdaMerging.Infrastructure.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class Experiments : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "experiments",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    Name = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    Owner = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    Runs = table.Column<string>(type: "jsonb", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_experiments", x => x.Id);
                });

            migrationBuilder.CreateIndex(
                name: "IX_experiments_CreatedAt",
                table: "experiments",
                column: "CreatedAt");

            migrationBuilder.CreateIndex(
                name: "IX_experiments_Owner",
                table: "experiments",
                column: "Owner");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "experiments");
        }
    }
}
