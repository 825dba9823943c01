using TorchSharp;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Compute;

/// <summary>
/// Tensor arithmetic with a number computed at run time, holding the Scalar alive through the native call (the
/// operators TorchSharp offers for it do not: <see cref="RootedScalars"/>). Same results as the operators: a number
/// is a "wrapped" scalar to PyTorch's type promotion, so a float32 tensor stays float32.
/// </summary>
public static class ScalarMath
{
    /// <summary>a + b (TorchSharp's <c>+</c> passes an implicit alpha).</summary>
    public static Tensor Plus(this Tensor a, Tensor b) => a.add(b, RootedScalars.One);

    /// <summary>a += b in place.</summary>
    public static Tensor PlusInPlace(this Tensor a, Tensor b) => a.add_(b, RootedScalars.One);

    public static Tensor Plus(this Tensor a, double value)
    {
        using var s = value.ToScalar();
        return a.add(s, RootedScalars.One);
    }

    public static Tensor PlusInPlace(this Tensor a, double value)
    {
        using var s = value.ToScalar();
        return a.add_(s, RootedScalars.One);
    }

    /// <summary>a + value · b.</summary>
    public static Tensor PlusScaled(this Tensor a, Tensor b, double value)
    {
        using var s = value.ToScalar();
        return a.add(b, s);
    }

    /// <summary>a += value · b in place.</summary>
    public static Tensor PlusScaledInPlace(this Tensor a, Tensor b, double value)
    {
        using var s = value.ToScalar();
        return a.add_(b, s);
    }

    /// <summary>a += value · b · c in place (addcmul_).</summary>
    public static Tensor PlusScaledProductInPlace(this Tensor a, Tensor b, Tensor c, double value)
    {
        using var s = value.ToScalar();
        return a.addcmul_(b, c, s);
    }

    /// <summary>a += value · b / c in place (addcdiv_).</summary>
    public static Tensor PlusScaledQuotientInPlace(this Tensor a, Tensor b, Tensor c, double value)
    {
        using var s = value.ToScalar();
        return a.addcdiv_(b, c, s);
    }

    /// <summary>a clamped to [low, high] (a new tensor).</summary>
    public static Tensor Clamped(this Tensor a, double low, double high)
    {
        using var l = low.ToScalar();
        using var h = high.ToScalar();
        return a.clamp(l, h);
    }

    /// <summary>a clamped to [low, high] in place.</summary>
    public static Tensor ClampedInPlace(this Tensor a, double low, double high)
    {
        using var l = low.ToScalar();
        using var h = high.ToScalar();
        return a.clamp_(l, h);
    }

    /// <summary>Where low ≤ a ≤ high (a boolean tensor).</summary>
    public static Tensor Within(this Tensor a, double low, double high)
    {
        using var l = low.ToScalar();
        using var h = high.ToScalar();
        return a.ge(l).logical_and_(a.le(h));
    }

    public static Tensor Times(this Tensor a, double value)
    {
        using var s = value.ToScalar();
        return a.mul(s);
    }

    public static Tensor TimesInPlace(this Tensor a, double value)
    {
        using var s = value.ToScalar();
        return a.mul_(s);
    }

    public static Tensor DividedBy(this Tensor a, double value)
    {
        using var s = value.ToScalar();
        return a.div(s);
    }

    public static Tensor Minus(this Tensor a, double value)
    {
        using var s = value.ToScalar();
        return a.sub(s);
    }

    /// <summary>value − a.</summary>
    public static Tensor From(this Tensor a, double value)
    {
        using var s = value.ToScalar();
        return a.negative().add(s, RootedScalars.One);
    }

    // Integer overloads: an integral Scalar keeps an integer tensor integral, as the operators do.
    public static Tensor Plus(this Tensor a, long value)
    {
        using var s = value.ToScalar();
        return a.add(s, RootedScalars.One);
    }

    public static Tensor DividedBy(this Tensor a, long value)
    {
        using var s = value.ToScalar();
        return a.div(s);
    }

    public static Tensor Times(this Tensor a, long value)
    {
        using var s = value.ToScalar();
        return a.mul(s);
    }

    /// <summary>A tensor of <paramref name="shape"/> filled with <paramref name="value"/>.</summary>
    public static Tensor Filled(long[] shape, double value, ScalarType dtype, Device device)
    {
        using var s = value.ToScalar();
        return full(shape, s, dtype: dtype, device: device);
    }
}
