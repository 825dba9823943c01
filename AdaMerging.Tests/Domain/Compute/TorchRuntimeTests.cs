using AdaMerging.Tests.Support;
using TorchSharp;

namespace AdaMerging.Tests.Domain.Compute;

public class TorchRuntimeTests
{
    /// <summary>
    /// The first torch call loads libLibTorchSharp.so; on Debian 12 that only works because the build marks its
    /// GLIBCXX_3.4.32 need weak. A real matrix product proves the library loaded and computes.
    /// </summary>
    [Fact]
    public void A_real_matrix_product_runs_on_the_native_library()
    {
        using var a = torch.tensor(new float[] { 1, 2, 3, 4, 5, 6 }, [2, 3]);
        using var b = torch.tensor(new float[] { 7, 8, 9, 10, 11, 12 }, [3, 2]);
        using var c = a.matmul(b);
        Assert.Equal(new float[] { 58, 64, 139, 154 }, c.data<float>().ToArray());
    }

    [Fact]
    public void The_built_LibTorchSharp_marks_its_GLIBCXX_3_4_32_need_weak()
    {
        var library = Path.Combine(AppContext.BaseDirectory, "libLibTorchSharp.so");
        Assert.True(File.Exists(library), $"{library} is missing");
        Assert.Equal(0x2, ElfVersionNeeds.Flags(library, "GLIBCXX_3.4.32") & 0x2);
    }
}
