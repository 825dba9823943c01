using AdaMerging.Domain.Compute;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Methods;

/// <summary>
/// WUDI merging (Cheng et al., "Whoever Started the Interference Should End It", ICML 2025; FusionBench's
/// <c>wudi</c>) of one tensor: for a matrix, the update τ minimising L(τ) = Σk ‖(τ − τk) τkᵀ‖² / ‖τk‖² by the authors'
/// optimiser (Adam, lr 1e-5, no weight decay, from τ = Σk τk, a fixed number of iterations); any other tensor the mean
/// of the tasks' (docs/algorithm.md, "WUDI").
/// </summary>
/// <remarks>
/// L is quadratic in τ, so its gradient is 2 (τ A − B) with A = Σk τkᵀ τk / ‖τk‖² ([n, n]) and B = Σk τk τkᵀ τk / ‖τk‖²
/// ([m, n]), both fixed: each iteration costs one [m, n]·[n, n] product instead of the authors' K products (τ − τk) τkᵀ
/// and their backward. The iterates are the authors' up to float32 rounding of the gradient (tested against the
/// reference in tools/make_wudi_fixture.py).
/// </remarks>
public static class Wudi
{
    /// <summary>The authors' iteration count and learning rate (FusionBench's config and the paper's code).</summary>
    public const int DefaultIterations = 300;

    public const double DefaultLearningRate = 1e-5;

    /// <summary>The merged update of one tensor from its task vectors [K, shape…].</summary>
    public static Tensor Update(Tensor taus, int iterations = DefaultIterations, double learningRate = DefaultLearningRate, bool optimise = true)
    {
        int k = (int)taus.shape[0];
        if (taus.dim() != 3 || !optimise) return taus.sum([0L]).DividedBy(k);   // the authors' Σ / K
        using var scope = NewDisposeScope();
        var (a, b) = Quadratic(taus);
        var tau = taus.sum([0L]);
        var m = zeros_like(tau);
        var v = zeros_like(tau);
        const double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8;
        for (int t = 1; t <= iterations; t++)
        {
            using var step = NewDisposeScope();
            var gradient = tau.matmul(a).PlusScaledInPlace(b, -1).TimesInPlace(2.0);
            m.TimesInPlace(beta1).PlusScaledInPlace(gradient, 1 - beta1);
            v.TimesInPlace(beta2).PlusScaledProductInPlace(gradient, gradient, 1 - beta2);
            var denominator = v.sqrt().DividedBy(Math.Sqrt(1 - Math.Pow(beta2, t))).PlusInPlace(epsilon);
            tau.PlusScaledQuotientInPlace(m, denominator, -learningRate / (1 - Math.Pow(beta1, t)));
        }
        return tau.MoveToOuterDisposeScope();
    }

    /// <summary>A = Σk τkᵀ τk / ‖τk‖² and B = Σk τk τkᵀ τk / ‖τk‖²: L's gradient is 2 (τ A − B).</summary>
    private static (Tensor A, Tensor B) Quadratic(Tensor taus)
    {
        Tensor? a = null, b = null;
        for (int i = 0; i < taus.shape[0]; i++)
        {
            var tk = taus[i];
            var gram = tk.t().matmul(tk).div_(tk.norm().square());   // the authors' square of the norm
            var part = tk.matmul(gram);
            a = a is null ? gram : a.PlusInPlace(gram);
            b = b is null ? part : b.PlusInPlace(part);
        }
        return (a!, b!);
    }
}
