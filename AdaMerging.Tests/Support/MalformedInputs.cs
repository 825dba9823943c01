using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using SkiaSharp;

namespace AdaMerging.Tests.Support;

/// <summary>
/// The corpus of bad uploads: each case is what a user might send, why it is bad, and a fragment of the message the
/// service must answer with. Every one must be refused with a 400 ProblemDetails and leave no blob or row behind.
/// </summary>
public static class MalformedInputs
{
    public sealed record BadInput(string Reason, string Endpoint, IReadOnlyList<(string FileName, byte[] Bytes)> Files, string Expected);

    public static IReadOnlyDictionary<string, BadInput> All { get; } = Build().ToDictionary(c => c.Reason);

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var name in All.Keys) data.Add(name);
        return data;
    }

    private static byte[] Raw(string header, int dataBytes = 0, ulong? declaredLength = null)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var prefix = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, declaredLength ?? (ulong)json.Length);
        return [.. prefix, .. json, .. new byte[dataBytes]];
    }

    private static byte[] Tensors(string body, int dataBytes, string metadata = "") =>
        Raw("{" + (metadata.Length > 0 ? $"\"__metadata__\":{metadata}," : "") + body + "}", dataBytes);

    private static string F32(string name, string shape, int begin, int end) =>
        $"\"{name}\":{{\"dtype\":\"F32\",\"shape\":{shape},\"data_offsets\":[{begin},{end}]}}";

    /// <summary>One float32 tensor of the given shape, all NaN.</summary>
    private static byte[] NaNs(string name, string shape, int count)
    {
        var data = new byte[count * 4];
        for (int i = 0; i < count; i++) BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(i * 4), float.NaN);
        return [.. Raw("{" + F32(name, shape, 0, count * 4) + "}"), .. data];
    }

    private static byte[] Png() => Images.Png(4, 4, SKColors.Red);

    private static byte[] Text(string s) => Encoding.UTF8.GetBytes(s);

    private static IEnumerable<BadInput> Build()
    {
        BadInput C(string reason, string endpoint, string expected, params (string, byte[])[] files) => new(reason, endpoint, files, expected);
        const string ck = "/checkpoints", hd = "/heads", ds = "/datasets";
        const string st = "model.safetensors";
        var good = Tensors(F32("w", "[2]", 0, 8), 8);

        // Checkpoints: the safetensors format's rules (AdaMerging.Domain/Tensors/SafetensorsHeader.cs).
        yield return C("empty file", ck, "shorter than the 8-byte header length", (st, []));
        yield return C("three bytes", ck, "shorter than the 8-byte header length", (st, [1, 2, 3]));
        yield return C("absurd header length", ck, "exceeds the limit", (st, Raw("{}", 0, 100_000_001)));
        yield return C("header length past the end", ck, "runs past the end", (st, Raw("{}", 0, 5000)));
        yield return C("zero-length header", ck, "not valid JSON", (st, Raw("")));
        yield return C("invalid JSON", ck, "not valid JSON", (st, Raw("{not json")));
        yield return C("JSON array root", ck, "not an object", (st, Raw("[1,2]")));
        yield return C("JSON string root", ck, "not an object", (st, Raw("\"x\"")));
        yield return C("non-UTF-8 header", ck, "not valid JSON", (st, [8, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]));
        yield return C("duplicate names", ck, "appears twice", (st, Tensors(F32("a", "[1]", 0, 4) + "," + F32("a", "[1]", 4, 8), 8)));
        yield return C("unknown dtype", ck, "unknown dtype 'F33'", (st, Raw("{\"a\":{\"dtype\":\"F33\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4)));
        yield return C("dtype not a string", ck, "dtype is missing or not a string", (st, Raw("{\"a\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", 4)));
        yield return C("shape missing", ck, "shape is missing", (st, Raw("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4)));
        yield return C("negative shape", ck, "non-negative integers", (st, Tensors(F32("a", "[-1]", 0, 4), 4)));
        yield return C("fractional shape", ck, "non-negative integers", (st, Tensors(F32("a", "[1.5]", 0, 4), 4)));
        yield return C("shape overflowing 64 bits", ck, "too large", (st, Tensors(F32("a", "[4000000000000000000,4000000000000000000]", 0, 4), 4)));
        yield return C("offsets missing", ck, "data_offsets is missing", (st, Raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4)));
        yield return C("one offset", ck, "data_offsets must have 2 entries", (st, Raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4)));
        yield return C("reversed offsets", ck, "end before they begin", (st, Tensors(F32("a", "[0]", 8, 0), 8)));
        yield return C("overlapping offsets", ck, "overlap", (st, Tensors(F32("a", "[2]", 0, 8) + "," + F32("b", "[1]", 4, 8), 8)));
        yield return C("hole between tensors", ck, "hole", (st, Tensors(F32("a", "[1]", 4, 8), 8)));
        yield return C("offsets outside the file", ck, "outside", (st, Tensors(F32("a", "[4]", 0, 16), 8)));
        yield return C("size disagrees with shape", ck, "needs 12", (st, Tensors(F32("a", "[3]", 0, 8), 8)));
        yield return C("wrong dtype size", ck, "needs 8", (st, Raw("{\"a\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[0,16]}}", 16)));
        yield return C("trailing data", ck, "does not end at the file's end", (st, Tensors(F32("a", "[1]", 0, 4), 12)));
        yield return C("metadata not an object", ck, "__metadata__ must be an object", (st, Raw("{\"__metadata__\":[1]}")));
        yield return C("metadata value a number", ck, "must be a string", (st, Raw("{\"__metadata__\":{\"format\":3}}")));
        yield return C("entry not an object", ck, "entry is not an object", (st, Raw("{\"a\":[1,2]}")));
        yield return C("JSON nested too deep", ck, "not valid JSON", (st, Raw("{\"__metadata__\":{\"a\":" + new string('[', 20) + new string(']', 20) + "}}")));
        yield return C("too many tensors", ck, "over the limit of 1000",
            (st, Tensors(string.Join(",", Enumerable.Range(0, 1001).Select(i => F32($"t{i}", "[1]", i * 4, i * 4 + 4))), 4004)));
        yield return C("no file the service reads", ck, "no file of the upload is read by the service: evil.exe: no registered architecture reads it", ("evil.exe", good));
        yield return C("path traversal in the file name", ck, "not a plain file name", ("..%2fx.safetensors", good));
        yield return C("a text file", ck, "not a valid safetensors file", (st, Text("root:x:0:0:root:/root:/bin/bash\n")));
        yield return C("a PNG image", ck, "not a valid safetensors file", (st, Png()));
        yield return C("a zip archive", ck, "not a valid safetensors file", (st, Images.Zip(("a.txt", Text("x")))));
        yield return C("config.json not JSON", ck, "config.json is not valid JSON", (st, good), ("config.json", Text("{")));
        yield return C("config.json heads do not divide", ck, "not divisible", (st, TinyClip()), ("config.json", Text("{\"hidden_size\":10,\"num_attention_heads\":3}")));
        yield return C("config.json disagrees with weights", ck, "where config.json implies",
            (st, TinyClip()), ("config.json", Text("{\"hidden_size\":16,\"intermediate_size\":64,\"num_hidden_layers\":2,\"num_attention_heads\":2,\"image_size\":8,\"patch_size\":4,\"projection_dim\":12}")));
        yield return C("garbage PyTorch file", ck, "not a PyTorch state dict", ("pytorch_model.bin", Text("this is not a pickle")));
        yield return C("index names a missing shard", ck, "which is missing",
            ("model.safetensors.index.json", Text("{\"weight_map\":{\"w\":\"model-00001-of-00002.safetensors\",\"v\":\"model-00002-of-00002.safetensors\"}}")),
            ("model-00001-of-00002.safetensors", good));
        yield return C("shard not named by the index", ck, "not named by",
            ("model.safetensors.index.json", Text("{\"weight_map\":{\"w\":\"model-00001-of-00002.safetensors\"}}")),
            ("model-00001-of-00002.safetensors", good), ("extra.safetensors", good));
        yield return C("index that is not JSON", ck, "index.json is not valid JSON", ("model.safetensors.index.json", Text("nope")), ("a.safetensors", good));
        yield return C("index escaping its folder", ck, "not a .safetensors file beside the index",
            ("model.safetensors.index.json", Text("{\"weight_map\":{\"w\":\"../model.safetensors\"}}")), ("model.safetensors", good));
        yield return C("index places a tensor in the wrong shard", ck, "which does not hold it",
            ("model.safetensors.index.json", Text("{\"weight_map\":{\"x\":\"model.safetensors\"}}")), ("model.safetensors", good));
        yield return C("two weight files without an index", ck, "without model.safetensors.index.json", ("a.safetensors", good), ("b.safetensors", good));
        yield return C("config.json alone", ck, "no weights", ("config.json", Text("{}")));
        yield return C("the same file twice", ck, "uploaded twice", (st, good), (st, good));

        // Heads.
        const string hf = "head.safetensors";
        yield return C("head without weight", hd, "needs a tensor named 'weight'", (hf, Tensors(F32("bias", "[2]", 0, 8), 8)));
        yield return C("head weight is a vector", hd, "must be a floating [classes, features] matrix", (hf, Tensors(F32("weight", "[4]", 0, 16), 16)));
        yield return C("head bias of the wrong size", hd, "'bias' must be a floating [2] vector",
            (hf, Tensors(F32("weight", "[2,2]", 0, 16) + "," + F32("bias", "[3]", 16, 28), 28)));
        yield return C("head weight of integers", hd, "must be a floating",
            (hf, Raw("{\"weight\":{\"dtype\":\"I32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", 16)));
        yield return C("head with an extra tensor", hd, "not 'extra'", (hf, Tensors(F32("weight", "[1,2]", 0, 8) + "," + F32("extra", "[1]", 8, 12), 12)));
        yield return C("head normalize not a boolean", hd, "must be \"true\" or \"false\"", (hf, Tensors(F32("weight", "[1,2]", 0, 8), 8, "{\"normalize\":\"yes\"}")));
        yield return C("head class names of the wrong count", hd, "must name all 1 classes", (hf, Tensors(F32("weight", "[1,2]", 0, 8), 8, "{\"classes\":\"[\\\"a\\\",\\\"b\\\"]\"}")));
        yield return C("head class names not JSON", hd, "JSON array of strings", (hf, Tensors(F32("weight", "[1,2]", 0, 8), 8, "{\"classes\":\"a,b\"}")));
        yield return C("head holding NaN", hd, "NaN or infinite", (hf, NaNs("weight", "[1,1]", 1)));
        yield return C("head that is not safetensors", hd, "not a usable head", (hf, Text("hello")));

        // Datasets.
        const string df = "data.safetensors";
        yield return C("dataset without pixel_values", ds, "needs 'pixel_values'", (df, Tensors(F32("x", "[1]", 0, 4), 4)));
        yield return C("pixel_values of rank 3", ds, "must be [N ≥ 1", (df, Tensors(F32("pixel_values", "[1,3,2]", 0, 24), 24)));
        yield return C("pixel_values of integers other than uint8", ds, "must be U8 or floating",
            (df, Raw("{\"pixel_values\":{\"dtype\":\"I32\",\"shape\":[1,1,1,1],\"data_offsets\":[0,4]}}", 4)));
        yield return C("labels of the wrong dtype", ds, "'labels' must be I64 [1]",
            (df, Raw("{\"pixel_values\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1],\"data_offsets\":[0,1]},\"labels\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[1,5]}}", 5)));
        yield return C("labels of the wrong length", ds, "'labels' must be I64 [1]",
            (df, Raw("{\"pixel_values\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1],\"data_offsets\":[0,1]},\"labels\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[1,17]}}", 17)));
        yield return C("negative labels", ds, "negative labels", (df, Labels(-1)));
        yield return C("labels out of range", ds, "over the limit of 1000 classes", (df, Labels(5000)));
        yield return C("float pixels holding NaN", ds, "NaN or infinite", (df, NaNs("pixel_values", "[1,1,1,1]", 1)));
        yield return C("zip bomb", ds, "a zip bomb", ("bomb.zip", Images.Zip(("a.png", new byte[20_000_000]))));
        yield return C("zip with ../ path", ds, "unsafe path", ("up.zip", Images.Zip(("../evil.png", Png()))));
        yield return C("zip with an absolute path", ds, "unsafe path", ("abs.zip", Images.Zip(("/etc/evil.png", Png()))));
        yield return C("zip with a backslash path", ds, "unsafe path", ("bs.zip", Images.Zip(("a\\..\\b.png", Png()))));
        yield return C("zip image that is not an image", ds, "not a decodable image", ("fake.zip", Images.Zip(("cat/a.png", Text("not a png")))));
        yield return C("zip with a truncated image", ds, "could not be decoded", ("trunc.zip", Images.Zip(("cat/a.png", Images.NoisePng(64, 1)[..6000]))));
        yield return C("zip with a stray file", ds, "neither images nor labels.csv", ("stray.zip", Images.Zip(("cat/a.png", Png()), ("notes.txt", Text("hi")))));
        yield return C("zip mixing layouts", ds, "either all in class folders", ("mixed.zip", Images.Zip(("cat/a.png", Png()), ("b.png", Png()))));
        yield return C("zip nested folders", ds, "either all in class folders", ("deep.zip", Images.Zip(("a/b/c.png", Png()))));
        yield return C("labels.csv label not an integer", ds, "is not an integer", ("csv.zip", Images.Zip(("labels.csv", Text("file,label\na.png,cat\n")), ("a.png", Png()))));
        yield return C("labels.csv missing an image", ds, "gives no label for b.png", ("csv2.zip", Images.Zip(("labels.csv", Text("a.png,1\n")), ("a.png", Png()), ("b.png", Png()))));
        yield return C("labels.csv naming a missing file", ds, "labels files the archive lacks", ("csv3.zip", Images.Zip(("labels.csv", Text("a.png,1\nz.png,2\n")), ("a.png", Png()))));
        yield return C("zip without images", ds, "holds no images", ("none.zip", Images.Zip(("labels.csv", Text("")))));
        yield return C("truncated zip", ds, "not a readable zip archive", ("cut.zip", Images.Zip(("cat/a.png", Png()), ("cat/b.png", Png()))[..60]));
    }

    private static byte[] Labels(long label)
    {
        var header = Encoding.UTF8.GetBytes("{\"pixel_values\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1],\"data_offsets\":[0,1]},\"labels\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[1,9]}}");
        var prefix = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
        var data = new byte[9];
        BinaryPrimitives.WriteInt64LittleEndian(data.AsSpan(1), label);
        return [.. prefix, .. header, .. data];
    }

    private static byte[] TinyClip()
    {
        using var buffer = new TempDirectory();
        var path = buffer.File("m.safetensors");
        TestCheckpoints.Save(path, ClipFixtures.HuggingFace(ClipFixtures.Tiny));
        return File.ReadAllBytes(path);
    }
}
