using AdaMerging.Domain.Tensors;
using static TorchSharp.torch;

namespace AdaMerging.Domain.Methods;

/// <summary>torch.optim.Adam's update, step for step (no weight decay, no amsgrad; docs/algorithm.md, "AdaMerging").</summary>
public static class Adam
{
    /// <summary>One update of <paramref name="lambda"/> in place, its moments <paramref name="m"/> and <paramref name="v"/> with it; <paramref name="t"/> counts from 1.</summary>
    public static void Update(Tensor lambda, Tensor m, Tensor v, Tensor gradient, int t, AdaMergingSettings options)
    {
        m.TimesInPlace(options.Beta1).PlusScaledInPlace(gradient, 1 - options.Beta1);
        v.TimesInPlace(options.Beta2).PlusScaledProductInPlace(gradient, gradient, 1 - options.Beta2);
        double biasCorrection1 = 1 - Math.Pow(options.Beta1, t);
        double biasCorrection2 = 1 - Math.Pow(options.Beta2, t);
        using var denominator = v.sqrt().DividedBy(Math.Sqrt(biasCorrection2)).PlusInPlace(options.Epsilon);
        lambda.PlusScaledQuotientInPlace(m, denominator, -options.LearningRate / biasCorrection1);
    }
}
