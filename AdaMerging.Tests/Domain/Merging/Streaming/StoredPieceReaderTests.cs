using AdaMerging.Domain.Merging.Streaming;
using AdaMerging.Domain.Tensors;
using AdaMerging.Tests.Support;
using TorchSharp;

namespace AdaMerging.Tests.Domain.Merging.Streaming;

/// <summary>
/// The stored pieces of θ0 and the tasks read one piece ahead (docs/performance.md, "Streamed merges"): each piece's
/// values are the models' own, in the planned order and out of it.
/// </summary>
public sealed class StoredPieceReaderTests : TempDirectoryTests
{
    [Theory]
    [InlineData("0,1,2,3")]
    [InlineData("0,2,1,3")]
    [InlineData("3,0,1,1,2")]
    public void Each_piece_holds_every_model_s_stored_values_in_any_order(string order)
    {
        var g = new torch.Generator(11);
        var models = Enumerable.Range(0, 3).Select(m =>
        {
            var path = Dir.File($"m{m}.safetensors");
            TestCheckpoints.Save(path, new Dictionary<string, torch.Tensor>
            {
                ["w"] = torch.randn([9, 4], generator: g).to_type(torch.ScalarType.BFloat16),
                ["v"] = torch.randn([5], generator: g).to_type(torch.ScalarType.BFloat16),
            });
            return SafetensorsFile.Open(path);
        }).ToList();
        try
        {
            var plan = Stretches.Plan(models[0], ["w", "v"], 16, cutTensors: true).SelectMany(s => s).ToList();
            Assert.Equal(4, plan.Count);   // w's rows in pieces of four, four and one, then v whole
            using var reader = new StoredPieceReader(models[0], models[1..], plan, CancellationToken.None);
            foreach (var piece in order.Split(',').Select(int.Parse).Select(i => plan[i]))
            {
                var parts = reader.Read(piece);
                for (int m = 0; m < models.Count; m++)
                {
                    using var expected = models[m].ReadRowRange(piece.Tensor, piece.FirstRow, piece.Rows);
                    Assert.True(expected.flatten().equal(parts[m]).all().item<bool>(), $"model {m}, {piece.Key}");
                }
                foreach (var p in parts) p.Dispose();
            }
        }
        finally
        {
            models.ForEach(m => m.Dispose());
        }
    }
}
