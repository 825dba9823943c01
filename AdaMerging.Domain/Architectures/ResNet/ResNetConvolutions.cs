namespace AdaMerging.Domain.Architectures.ResNet;

/// <summary>
/// One convolution of a ResNet, in forward order: where it is (the stem's, convolution <see cref="Index"/> of a block,
/// or a block's projection shortcut), its widths, kernel and stride, and the side of its input at an image size.
/// </summary>
public readonly record struct ResNetConvolution(int Stage, int Block, int Index, long In, long Out, long Kernel, long Stride, long InputSide)
{
    public const int StemStage = -1, ShortcutIndex = -1;

    /// <summary>The width of its input patches, in · kh · kw: the side of its Gram matrix (RegMean).</summary>
    public long PatchWidth => In * Kernel * Kernel;

    /// <summary>Output positions per image.</summary>
    public long OutputArea => Down(InputSide, Stride) * Down(InputSide, Stride);

    /// <summary>Its module name in a layout (without ".weight").</summary>
    public string Name(ResNetNames names) =>
        Stage == StemStage ? names.Stem.Conv : Index == ShortcutIndex ? names.Shortcut(Stage, Block).Conv : names.Layer(Stage, Block, Index).Conv;

    /// <summary>A side after a stride-s convolution or pool with "same" padding.</summary>
    public static long Down(long side, long stride) => (side - 1) / stride + 1;
}

/// <summary>Every convolution of a ResNet in the order <see cref="ResNetModel"/> applies them (docs/algorithm.md, "ResNet").</summary>
public static class ResNetConvolutions
{
    public static IEnumerable<ResNetConvolution> Of(ResNetConfig c, long imageSize)
    {
        yield return new(ResNetConvolution.StemStage, 0, 0, c.NumChannels, c.EmbeddingSize, 7, 2, imageSize);
        long side = ResNetConvolution.Down(ResNetConvolution.Down(imageSize, 2), 2);
        for (int s = 0; s < c.Depths.Count; s++)
            for (int b = 0; b < c.Depths[s]; b++)
            {
                long stride = b == 0 ? c.StrideOf(s) : 1, cin = c.InputWidth(s, b), cout = c.HiddenSizes[s], outSide = ResNetConvolution.Down(side, stride);
                if (c.IsBottleneck)
                {
                    long w = cout / ResNetConfig.Expansion, first = c.DownsampleInBottleneck ? stride : 1, middle = c.DownsampleInBottleneck ? 1 : stride;
                    yield return new(s, b, 0, cin, w, 1, first, side);
                    yield return new(s, b, 1, w, w, 3, middle, ResNetConvolution.Down(side, first));
                    yield return new(s, b, 2, w, cout, 1, 1, outSide);
                }
                else
                {
                    yield return new(s, b, 0, cin, cout, 3, stride, side);
                    yield return new(s, b, 1, cout, cout, 3, 1, outSide);
                }
                if (c.HasShortcut(s, b)) yield return new(s, b, ResNetConvolution.ShortcutIndex, cin, cout, 1, stride, side);
                side = outSide;
            }
    }
}
