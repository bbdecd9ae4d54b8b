using System.Runtime.InteropServices;

namespace Wsd.Interop;

/// <summary>renameat2(2), for moves that must never replace what is already at the new name.</summary>
public static unsafe partial class Renames
{
    public const uint NoReplace = 1; // RENAME_NOREPLACE

    [LibraryImport("libc", EntryPoint = "renameat2", SetLastError = true)]
    public static partial int RenameAt2(int oldDirFd, byte* oldPath, int newDirFd, byte* newPath, uint flags);
}
