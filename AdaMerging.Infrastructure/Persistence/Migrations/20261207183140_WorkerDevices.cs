using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace AdaMerging.Infrastructure.Persistence.Migrations
{
    /// <inheritdoc />
    public partial class WorkerDevices : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "worker_devices",
                columns: table => new
                {
                    Server = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                    Queue = table.Column<string>(type: "character varying(20)", maxLength: 20, nullable: false),
                    Device = table.Column<string>(type: "character varying(40)", maxLength: 40, nullable: false),
                    MemoryBytes = table.Column<long>(type: "bigint", nullable: false),
                    Learning = table.Column<bool>(type: "boolean", nullable: false),
                    SeenAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_worker_devices", x => new { x.Server, x.Queue, x.Device });
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "worker_devices");
        }
    }
}
