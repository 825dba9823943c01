using AdaMerging.Domain.Architectures;
using AdaMerging.Domain.Architectures.Clip;
using AdaMerging.Domain.Architectures.ResNet;
using AdaMerging.Domain.Checkpoints;
using AdaMerging.Domain.Models;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using static TorchSharp.torch;

namespace AdaMerging.Benchmark.ResNet;

/// <summary>
/// resnet-onnx-check --model DIR --onnx ResNet18.onnx [--images 16]: the converted ImageNet ResNet-18
/// (tools/convert_resnet18_onnx.py) through the service's model against ONNX Runtime running the original CNTK export on
/// the same images (docs/reproduction.md, "ResNet-18"). Random uint8 pictures at 224 px, normalised by the converted
/// checkpoint's preprocessor_config.json (x = 255 · p − μ per channel), given to ONNX Runtime in BGR order as CNTK
/// takes them. Prints the largest difference relative to the largest feature and fails above 1e-4.
/// </summary>
public static class OnnxCheck
{
    public const double Tolerance = 1e-4;

    public static int Run(BenchOptions options)
    {
        var dir = options.Required("model");
        int images = options.WholeNumber("images", 16);
        using var folder = ModelFolder.Open(Directory.GetFiles(dir).ToDictionary(f => Path.GetFileName(f), f => f));
        var spec = folder.Spec as ResNetSpec ?? throw new InvalidOperationException($"{dir} is not a ResNet the service recognises");
        using var scope = NewDisposeScope();
        using var g = new Generator(7);
        var pixels = randint(0, 256, [images, 3, 224, 224], generator: g).to_type(ScalarType.Byte);
        var x = ClipPreprocessing.Normalize(pixels, spec.Preprocessing.Normalization);
        var features = ModelParameters.Run(folder, CPU, (model, θ) => model.Features(θ, x));

        using var session = new InferenceSession(options.Required("onnx"));
        var input = session.InputMetadata.Keys.Single();
        var bgr = x.flip(1).contiguous();
        var reference = zeros_like(features);
        for (int i = 0; i < images; i++)
        {
            var values = bgr[i].data<float>().ToArray();
            using var results = session.Run([NamedOnnxValue.CreateFromTensor(input, new DenseTensor<float>(values, [1, 3, 224, 224]))]);
            var output = results.Single().AsTensor<float>().ToArray();
            reference[i].copy_(tensor(output));
        }
        double difference = ReferenceDifference.Relative(reference, features);
        Console.WriteLine($"ResNet-18 ({spec.Describe()}) against ONNX Runtime {OrtEnv.Instance().GetVersionString()} on {images} images at 224 px: "
            + $"largest difference {difference:E2} of the largest feature ({reference.abs().max().item<float>():F3}); tolerance {Tolerance:E0}");
        return difference <= Tolerance ? 0 : 1;
    }
}
