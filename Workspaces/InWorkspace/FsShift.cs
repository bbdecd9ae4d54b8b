namespace Wsd.Workspaces.InWorkspace;

/// <summary>How a workspace's root is shifted to its user namespace at &lt;service dir&gt;/mark (docs/compatibility.md#prepareforuserns).</summary>
public enum FsShift { Shiftfs, Idmapped }
