using System.Collections.Concurrent;
using TorchSharp;

namespace AdaMerging.Domain.Compute;

/// <summary>
/// Scalars that live as long as the process. TorchSharp's <c>a + b</c>, <c>add_(b)</c>, <c>clamp_min(0)</c> and their
/// kind make a Scalar implicitly and pass only its handle to libtorch without keeping the object alive: the
/// finalizer thread can free it during the native call, which libtorch then reads as garbage ("Expected false to be
/// true" from <c>Scalar::toFloat</c>). The build refuses those calls (BannedSymbols.txt, docs/algorithm.md,
/// "Scalars"); constants come from here, values computed at run time go through <see cref="ScalarMath"/>.
/// </summary>
public static class RootedScalars
{
    private static readonly ConcurrentDictionary<double, Scalar> Doubles = new();
    private static readonly ConcurrentDictionary<long, Scalar> Integers = new();

    public static readonly Scalar One = Of(1L);

    public static readonly Scalar MinusOne = Of(-1L);

    public static readonly Scalar Zero = Of(0L);

    /// <summary>A constant of the code (a literal, a configuration's fixed value): one Scalar per value, kept for good.</summary>
    public static Scalar Of(double value) => Doubles.GetOrAdd(value, v => v.ToScalar());

    /// <summary>An integer constant: integral Scalars keep integer tensors integral (a double one would promote them).</summary>
    public static Scalar Of(long value) => Integers.GetOrAdd(value, v => v.ToScalar());
}
