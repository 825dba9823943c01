namespace AdaMerging.Domain.Tensors;

/// <summary>A file that breaks a rule of the safetensors format; the message names the tensor and the rule.</summary>
public sealed class SafetensorsFormatException : Exception
{
    public SafetensorsFormatException(string message) : base(message) { }

    public SafetensorsFormatException(string message, Exception inner) : base(message, inner) { }

    public SafetensorsFormatException() { }
}
