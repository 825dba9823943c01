using TorchSharp;

namespace AdaMerging.Domain.Compute;

/// <summary>
/// Scalars that live as long as the process. TorchSharp's <c>a + b</c>, <c>add_(b)</c>, <c>clamp_min(0)</c> and their
/// kind make a Scalar implicitly and pass only its handle to libtorch without keeping the object alive: the
/// finalizer thread can free it during the native call, which libtorch then reads as garbage ("Expected false to be
/// true" from <c>Scalar::toFloat</c>; seen here in ResNet merges under load, docs/algorithm.md, "ResNet"). Hot paths
/// pass these instead.
/// </summary>
public static class RootedScalars
{
    public static readonly Scalar One = 1.ToScalar();

    public static readonly Scalar MinusOne = (-1).ToScalar();

    public static readonly Scalar Zero = 0.ToScalar();
}
