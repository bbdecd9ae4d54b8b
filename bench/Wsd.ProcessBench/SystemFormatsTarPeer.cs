using System.Formats.Tar;

namespace Wsd.ProcessBench;

/// <summary>The System.Formats.Tar peer, run as its own process: the library's whole-directory calls, as a .NET user would.</summary>
static class SystemFormatsTarPeer
{
    public static int Run(string[] args)
    {
        switch (args)
        {
            case ["sft-create", var directory, var archive]:
                using (var output = new FileStream(archive, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
                    TarFile.CreateFromDirectory(directory, output, includeBaseDirectory: false);
                return 0;
            case ["sft-extract", var archive, var directory]:
                Directory.CreateDirectory(directory);
                using (var input = new FileStream(archive, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20))
                    TarFile.ExtractToDirectory(input, directory, overwriteFiles: true);
                return 0;
            default:
                Console.Error.WriteLine("usage: sft-create DIR ARCHIVE | sft-extract ARCHIVE DIR");
                return 2;
        }
    }
}
