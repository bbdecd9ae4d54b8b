namespace Wsd.Workspaces.InWorkspace;

/// <summary>How a workspace's root is shifted to its user namespace at &lt;service dir&gt;/mark (REF §7.4).</summary>
public enum FsShift { Shiftfs, Idmapped }
