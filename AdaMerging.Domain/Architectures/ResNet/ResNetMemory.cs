namespace AdaMerging.Domain.Architectures.ResNet;

/// <summary>What one image costs a ResNet at an image size, for the memory estimate (docs/algorithm.md, "Memory").</summary>
public static class ResNetMemory
{
    public static ModelMemory Of(ResNetConfig c, int imageSize)
    {
        var blocks = Blocks(c, imageSize).ToList();
        long stem = Stem(c, imageSize, out long stemOutput);
        long kept = stem + blocks.Sum(b => b.Kept);
        long largest = Math.Max(stemOutput * 4, blocks.Max(b => b.Output));
        return new ModelMemory(
            InputBytes: (long)c.NumChannels * imageSize * imageSize * 4,
            Blocks: c.Blocks,
            // The stem's and every block's, spread evenly over the blocks: without checkpointing their sum is what counts.
            BlockActivations: (kept + c.Blocks - 1) / c.Blocks,
            StageInputs: (long)c.NumChannels * imageSize * imageSize + stemOutput + blocks.Sum(b => b.Output),
            ForwardWithoutGraph: 3 * largest,
            BlockParameters: blocks.Max(b => b.Parameters),
            ObservedGramBytes: ObservedGrams(c, imageSize));
    }

    /// <summary>
    /// RegMean's: per convolution, the Gram matrix being gathered and the sum (n × n each, n = in · kh · kw) and Σ G Wᵀ
    /// (n × out); and the largest convolution's patches at RegMean's batch, unfolded and made contiguous (two copies).
    /// </summary>
    private static long ObservedGrams(ResNetConfig c, int imageSize)
    {
        var convolutions = ResNetConvolutions.Of(c, imageSize).ToList();
        long grams = convolutions.Sum(v => 2 * v.PatchWidth * v.PatchWidth + v.PatchWidth * v.Out);
        long patches = 2L * convolutions.Max(v => v.PatchWidth * v.OutputArea) * Methods.RegMean.DefaultBatchSize;
        return (grams + patches) * 4;
    }

    /// <summary>
    /// Elements autograd keeps per image in the stem: the convolution's output (kept by the batch norm's product),
    /// the ReLU's output and the max pool's indices (int64: two floats' worth); its output is the first block's input.
    /// </summary>
    private static long Stem(ResNetConfig c, int size, out long output)
    {
        long half = ResNetConvolution.Down(size, 2), quarter = ResNetConvolution.Down(half, 2);
        output = c.EmbeddingSize * quarter * quarter;
        return 2L * c.EmbeddingSize * half * half + 2 * output;
    }

    /// <summary>
    /// Per block: each convolution's output (kept by its batch norm's product) and each ReLU's output, the shortcut's
    /// convolution output; its output is the next stage's input (counted in <see cref="ModelMemory.StageInputs"/>).
    /// </summary>
    private static IEnumerable<(long Kept, long Output, long Parameters)> Blocks(ResNetConfig c, int size)
    {
        long side = ResNetConvolution.Down(ResNetConvolution.Down(size, 2), 2);
        for (int s = 0; s < c.Depths.Count; s++)
            for (int b = 0; b < c.Depths[s]; b++)
            {
                long inSide = side;
                if (b == 0) side = ResNetConvolution.Down(side, c.StrideOf(s));
                long cout = c.HiddenSizes[s], cin = c.InputWidth(s, b), area = side * side, w = cout / ResNetConfig.Expansion;
                long kept = c.IsBottleneck ? 2 * w * inSide * inSide + 2 * w * area + 2 * cout * area : 4 * cout * area;
                long parameters = c.IsBottleneck ? w * cin + 9 * w * w + cout * w + 4 * (2 * w + cout) : 9 * cout * (cin + cout) + 8 * cout;
                if (c.HasShortcut(s, b))
                {
                    kept += cout * area;
                    parameters += cout * cin + 4 * cout;
                }
                yield return (kept, cout * area, parameters);
            }
    }
}
