using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using AdaMerging.Domain.Tensors;
using Microsoft.Win32.SafeHandles;

namespace AdaMerging.Domain.Checkpoints;

/// <summary>
/// Finds floating tensors holding NaN or ±Inf: accepted, but reported, since a merge would spread them. Reads the
/// file in 8 MiB chunks and tests exponent bits directly, so memory stays flat whatever the tensor sizes.
/// </summary>
public static class NonFiniteScan
{
    private const int ChunkBytes = 8 << 20;

    public static IReadOnlyList<string> Find(string safetensorsPath, int limit = 20)
    {
        var header = SafetensorsHeader.Read(safetensorsPath);
        using var handle = File.OpenHandle(safetensorsPath, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
        var buffer = new byte[ChunkBytes];
        var found = new List<string>();
        foreach (var t in header.Tensors.Where(t => t.DType.IsFloatingPoint && t.ByteLength > 0))
        {
            var count = Count(handle, header.DataStart + t.Begin, t.ByteLength, t.DType, buffer);
            if (count > 0) found.Add($"{t.Name}: {count} non-finite value(s)");
            if (found.Count >= limit) break;
        }
        return found;
    }

    private static long Count(SafeFileHandle handle, long offset, long length, SafetensorsDType dtype, byte[] buffer)
    {
        long count = 0;
        int chunk = ChunkBytes - ChunkBytes % 8;
        for (long done = 0; done < length;)
        {
            var span = buffer.AsSpan(0, (int)Math.Min(chunk, length - done));
            for (int read = 0; read < span.Length;)
            {
                int n = RandomAccess.Read(handle, span[read..], offset + done + read);
                if (n == 0) throw new SafetensorsFormatException("the file ended early");
                read += n;
            }
            count += dtype.Name switch
            {
                "F32" => CountExponentAllOnes<uint>(span, 0x7F80_0000u),
                "F64" => CountExponentAllOnes<ulong>(span, 0x7FF0_0000_0000_0000ul),
                "F16" => CountExponentAllOnes<ushort>(span, (ushort)0x7C00),
                "BF16" => CountExponentAllOnes<ushort>(span, (ushort)0x7F80),
                "F8_E5M2" => CountExponentAllOnes<byte>(span, (byte)0x7C),
                _ => 0, // F8_E4M3 has no infinities and one NaN pattern per sign; torch cannot load it anyway.
            };
            done += span.Length;
        }
        return count;
    }

    /// <summary>NaN and ±Inf are exactly the values whose exponent bits are all ones.</summary>
    private static long CountExponentAllOnes<T>(ReadOnlySpan<byte> bytes, T mask) where T : unmanaged, IBinaryInteger<T>
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors data is little-endian");
        var values = MemoryMarshal.Cast<byte, T>(bytes);
        var maskVector = new Vector<T>(mask);
        long count = 0;
        int i = 0;
        for (; i <= values.Length - Vector<T>.Count; i += Vector<T>.Count)
        {
            var v = new Vector<T>(values[i..]);
            var hits = Vector.Equals(v & maskVector, maskVector);
            if (hits != Vector<T>.Zero)
                for (int k = 0; k < Vector<T>.Count; k++)
                    if (hits[k] != T.Zero) count++;
        }
        for (; i < values.Length; i++)
            if ((values[i] & mask) == mask) count++;
        return count;
    }
}
