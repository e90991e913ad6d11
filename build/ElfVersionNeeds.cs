// Shared by the build (compiled by MSBuild's RoslynCodeTaskFactory, see Directory.Build.targets)
// and by the tests (linked with ELF_ROUTINE_ONLY defined). Keep it dependency-free.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace PruneSharp.Build
{
    /// <summary>
    /// Reads and edits the version needs (<c>.gnu.version_r</c>) of a 64-bit little-endian ELF shared library.
    /// Used to mark a version need as weak (<c>VER_FLG_WEAK</c>), so that the dynamic loader accepts a library
    /// whose only reference to that version is a symbol that is never called.
    /// </summary>
    public static class ElfVersionNeeds
    {
        /// <summary>The <c>vna_flags</c> bit that makes a version need weak.</summary>
        public const ushort VerFlagWeak = 0x2;

        const uint ShtGnuVerneed = 0x6ffffffe;
        const uint ShtGnuVersym = 0x6fffffff;
        const uint ShtDynsym = 11;

        /// <summary>One <c>Vernaux</c> entry: a version that a needed file must define.</summary>
        public sealed class Need
        {
            /// <summary>The needed file, e.g. <c>libstdc++.so.6</c>.</summary>
            public string File = "";
            /// <summary>The version name, e.g. <c>GLIBCXX_3.4.32</c>.</summary>
            public string Version = "";
            /// <summary>The <c>vna_flags</c> field.</summary>
            public ushort Flags;
            /// <summary>The <c>vna_other</c> field: the version index that symbols refer to.</summary>
            public ushort Index;
            /// <summary>Byte offset of <c>vna_flags</c> in the file.</summary>
            public long FlagsOffset;
            /// <summary>Names of the dynamic symbols bound to this version.</summary>
            public List<string> Symbols = new List<string>();
        }

        /// <summary>Lists every version need of the ELF image, with the symbols that use each.</summary>
        /// <exception cref="InvalidDataException">The image is not a 64-bit little-endian ELF file or is malformed.</exception>
        public static List<Need> Read(byte[] elf)
        {
            if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
                throw new InvalidDataException("not an ELF file (bad magic)");
            if (elf[4] != 2 || elf[5] != 1)
                throw new InvalidDataException("only 64-bit little-endian ELF files are supported");

            long shoff = (long)U64(elf, 0x28);
            int shentsize = U16(elf, 0x3A), shnum = U16(elf, 0x3C);
            if (shentsize < 64 || shoff <= 0 || shoff + (long)shentsize * shnum > elf.Length)
                throw new InvalidDataException("section header table lies outside the file");

            long SectionOffset(int i) => shoff + (long)i * shentsize;
            uint Type(int i) => U32(elf, SectionOffset(i) + 4);
            long Offset(int i) => (long)U64(elf, SectionOffset(i) + 0x18);
            long Size(int i) => (long)U64(elf, SectionOffset(i) + 0x20);
            int Link(int i) => (int)U32(elf, SectionOffset(i) + 0x28);

            var needs = new List<Need>();
            int verneed = -1, versym = -1, dynsym = -1;
            for (int i = 0; i < shnum; i++)
            {
                uint t = Type(i);
                if (t == ShtGnuVerneed) verneed = i;
                else if (t == ShtGnuVersym) versym = i;
                else if (t == ShtDynsym) dynsym = i;
            }
            if (verneed < 0) return needs;

            int strtab = Link(verneed);
            if (strtab <= 0 || strtab >= shnum) throw new InvalidDataException(".gnu.version_r links to no string table");
            long strOff = Offset(strtab), strSize = Size(strtab);
            string Str(uint at)
            {
                if (at >= strSize) throw new InvalidDataException("string index outside the dynamic string table");
                long start = strOff + at, end = start;
                while (end < strOff + strSize && elf[end] != 0) end++;
                return Encoding.ASCII.GetString(elf, (int)start, (int)(end - start));
            }

            long sectionEnd = Offset(verneed) + Size(verneed);
            long vn = Offset(verneed);
            for (int guard = 0; guard < 4096; guard++)
            {
                Check(elf, vn, 16, sectionEnd);
                int count = U16(elf, vn + 2);
                string file = Str(U32(elf, vn + 4));
                long vna = vn + U32(elf, vn + 8);
                for (int k = 0; k < count; k++)
                {
                    Check(elf, vna, 16, sectionEnd);
                    needs.Add(new Need
                    {
                        File = file,
                        Flags = U16(elf, vna + 4),
                        Index = U16(elf, vna + 6),
                        Version = Str(U32(elf, vna + 8)),
                        FlagsOffset = vna + 4,
                    });
                    uint nextAux = U32(elf, vna + 12);
                    if (nextAux == 0) break;
                    vna += nextAux;
                }
                uint next = U32(elf, vn + 12);
                if (next == 0) break;
                vn += next;
            }

            if (versym >= 0 && dynsym >= 0)
            {
                int symStrtab = Link(dynsym);
                long symOff = Offset(dynsym), symCount = Size(dynsym) / 24;
                long verOff = Offset(versym);
                long symStrOff = Offset(symStrtab), symStrSize = Size(symStrtab);
                for (long s = 0; s < symCount; s++)
                {
                    Check(elf, verOff + 2 * s, 2, elf.Length);
                    ushort index = (ushort)(U16(elf, verOff + 2 * s) & 0x7fff);
                    Need? need = needs.Find(n => n.Index == index);
                    if (need == null) continue;
                    uint nameAt = U32(elf, symOff + 24 * s);
                    if (nameAt >= symStrSize) throw new InvalidDataException("symbol name outside the string table");
                    long start = symStrOff + nameAt, end = start;
                    while (end < symStrOff + symStrSize && elf[end] != 0) end++;
                    need.Symbols.Add(Encoding.ASCII.GetString(elf, (int)start, (int)(end - start)));
                }
            }
            return needs;
        }

        /// <summary>
        /// Sets <see cref="VerFlagWeak"/> on the need for <paramref name="version"/> of <paramref name="file"/>,
        /// but only if every symbol bound to that version is in <paramref name="allowedSymbols"/>.
        /// </summary>
        /// <returns>True if the image was changed; false if the need is absent or already weak.</returns>
        /// <exception cref="InvalidOperationException">Another symbol depends on that version, so weakening it would be unsafe.</exception>
        public static bool MakeWeak(byte[] elf, string file, string version, ICollection<string> allowedSymbols)
        {
            foreach (Need need in Read(elf))
            {
                if (need.File != file || need.Version != version) continue;
                foreach (string symbol in need.Symbols)
                    if (!allowedSymbols.Contains(symbol))
                        throw new InvalidOperationException(
                            $"symbol '{symbol}' needs {version} of {file}; only {string.Join(", ", allowedSymbols)} may be weakened");
                if ((need.Flags & VerFlagWeak) != 0) return false;
                ushort flags = (ushort)(need.Flags | VerFlagWeak);
                elf[need.FlagsOffset] = (byte)flags;
                elf[need.FlagsOffset + 1] = (byte)(flags >> 8);
                return true;
            }
            return false;
        }

        /// <summary>True if the file's bytes contain the NUL-terminated version name, as a library that defines it does.</summary>
        public static bool DefinesVersion(string libraryPath, string version)
        {
            byte[] bytes = File.ReadAllBytes(libraryPath);
            byte[] needle = Encoding.ASCII.GetBytes(version + "\0");
            for (int i = 0; i + needle.Length <= bytes.Length; i++)
            {
                int k = 0;
                while (k < needle.Length && bytes[i + k] == needle[k]) k++;
                if (k == needle.Length) return true;
            }
            return false;
        }

        static void Check(byte[] elf, long at, int size, long limit)
        {
            if (at < 0 || at + size > limit || at + size > elf.Length)
                throw new InvalidDataException("version-need entry lies outside its section");
        }

        static ushort U16(byte[] b, long at) => (ushort)(b[at] | b[at + 1] << 8);
        static uint U32(byte[] b, long at) => (uint)(b[at] | b[at + 1] << 8 | b[at + 2] << 16 | b[at + 3] << 24);
        static ulong U64(byte[] b, long at) => U32(b, at) | (ulong)U32(b, at + 4) << 32;
    }

#if !ELF_ROUTINE_ONLY
    /// <summary>
    /// MSBuild task: in each given native library, marks the <c>GLIBCXX_3.4.32</c> need as weak when the host's
    /// libstdc++ does not define that version (Debian 12 and other GCC 12 systems). Newer hosts are left untouched.
    /// </summary>
    public sealed class WeakenGlibcxxNeed : Microsoft.Build.Utilities.Task
    {
        /// <summary>Native libraries (copies in an output folder, never the NuGet cache) to patch.</summary>
        [Microsoft.Build.Framework.Required]
        public Microsoft.Build.Framework.ITaskItem[] Libraries { get; set; } = Array.Empty<Microsoft.Build.Framework.ITaskItem>();

        const string Version = "GLIBCXX_3.4.32";
        static readonly string[] Allowed = { "_ZSt21ios_base_library_initv" };

        public override bool Execute()
        {
            string? host = HostLibstdcxx();
            if (host == null || ElfVersionNeeds.DefinesVersion(host, Version)) return true;
            foreach (var item in Libraries)
            {
                string path = item.ItemSpec;
                if (!File.Exists(path)) continue;
                byte[] bytes = File.ReadAllBytes(path);
                try
                {
                    if (!ElfVersionNeeds.MakeWeak(bytes, "libstdc++.so.6", Version, Allowed)) continue;
                }
                catch (Exception e) when (e is InvalidOperationException || e is InvalidDataException)
                {
                    Log.LogWarning($"{path}: not patched: {e.Message}");
                    continue;
                }
                string temp = path + ".patching";
                File.WriteAllBytes(temp, bytes);
                File.Replace(temp, path, null);
                Log.LogMessage(Microsoft.Build.Framework.MessageImportance.High,
                    $"PruneSharp: marked {Version} as a weak need in {path} (host {host} lacks it)");
            }
            return !Log.HasLoggedErrors;
        }

        static string? HostLibstdcxx()
        {
            foreach (string dir in new[] { "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/lib64", "/usr/lib" })
            {
                string candidate = Path.Combine(dir, "libstdc++.so.6");
                if (File.Exists(candidate)) return candidate;
            }
            return null;
        }
    }
#endif
}
