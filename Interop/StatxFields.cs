namespace Wsd.Interop;

/// <summary>statx(2) fields that <see cref="StatxBuffer"/> leaves out.</summary>
public static unsafe class StatxFields
{
    /// <summary>STATX_MNT_ID: ask for stx_mnt_id (Linux 5.8).</summary>
    public const uint MountIdMask = 0x1000;

    const int MountIdOffset = 144;

    /// <summary>stx_mnt_id: the mount the file was reached through, which tells a bind mount from its source.</summary>
    public static ulong MountId(in StatxBuffer buffer)
    {
        fixed (StatxBuffer* b = &buffer)
            return *(ulong*)((byte*)b + MountIdOffset);
    }
}
