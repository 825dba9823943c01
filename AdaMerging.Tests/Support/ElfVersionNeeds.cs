using System.Buffers.Binary;
using System.Text;

namespace AdaMerging.Tests.Support;

/// <summary>Reads the flags of one Vernaux entry of an ELF64 file, independently of the build's patch task.</summary>
public static class ElfVersionNeeds
{
    public static int Flags(string path, string versionName)
    {
        var b = File.ReadAllBytes(path);
        long shoff = BinaryPrimitives.ReadInt64LittleEndian(b.AsSpan(0x28));
        int shentsize = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(0x3A));
        int shnum = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(0x3C));
        for (int i = 0; i < shnum; i++)
        {
            int h = (int)(shoff + i * shentsize);
            if (BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(h + 4)) != 0x6ffffffe) continue;
            int off = (int)BinaryPrimitives.ReadInt64LittleEndian(b.AsSpan(h + 0x18));
            int link = (int)BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(h + 0x28));
            int str = (int)BinaryPrimitives.ReadInt64LittleEndian(b.AsSpan((int)(shoff + link * shentsize) + 0x18));
            for (int need = off; ; )
            {
                int cnt = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(need + 2));
                int aux = need + (int)BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(need + 8));
                for (int a = 0; a < cnt; a++)
                {
                    int name = str + (int)BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(aux + 8));
                    int end = Array.IndexOf(b, (byte)0, name);
                    if (Encoding.ASCII.GetString(b, name, end - name) == versionName)
                        return BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(aux + 4));
                    aux += (int)BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(aux + 12));
                }
                int next = (int)BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(need + 12));
                if (next == 0) break;
                need += next;
            }
        }
        throw new InvalidOperationException($"{path} does not ask for {versionName}");
    }
}
