using Wsd.Runtime.Containerd;

namespace Wsd.Tests.Runtime;

/// <summary>How the containerd provider picks a workspace's container from pods' labels (docs/compatibility.md#finding-the-workspace-container), without containerd.</summary>
public class ContainerIndexTests
{
    static ContainerIndex.Container Sandbox(string id, string uid, string ns = "default", string? instance = null, bool mk1 = false) =>
        new(id, new Dictionary<string, string>
        {
            [PodLabels.Kind] = "sandbox",
            [PodLabels.PodUid] = uid,
            [PodLabels.PodNamespace] = ns,
            [mk1 ? PodLabels.WorkspaceId : PodLabels.InstanceId] = instance ?? "inst-1",
            [mk1 ? PodLabels.Mk1Marker : "app"] = "x",
        }, "/kubepods/" + id);

    static ContainerIndex.Container Workspace(string id, string uid, string ns = "default", string name = "workspace") =>
        new(id, new Dictionary<string, string>
        {
            [PodLabels.Kind] = "container",
            [PodLabels.ContainerName] = name,
            [PodLabels.PodUid] = uid,
            [PodLabels.PodNamespace] = ns,
        }, "/kubepods/" + id);

    static readonly ContainerIndex.TaskState Running = new(4242, Running: true, Exited: false, 0);

    [Fact]
    public void TheWorkspaceContainerOfTheLabelledPodIsFound()
    {
        var index = new ContainerIndex("default");
        index.Replace([Sandbox("s1", "uid-1"), Workspace("c1", "uid-1"), Workspace("sidecar", "uid-1", name: "supervisor")], [("c1", Running), ("s1", Running)]);

        var found = index.Find("inst-1");

        Assert.Equal(ContainerIndex.Outcome.Running, found.Outcome);
        Assert.Equal("c1", found.Container!.Id);
        Assert.Equal(4242u, found.Task!.Pid);
    }

    [Fact]
    public void Mk1PodsAreNamedByTheirWorkspaceIdLabel()
    {
        var index = new ContainerIndex("");
        index.Replace([Sandbox("s1", "uid-1", instance: "ws-old", mk1: true), Workspace("c1", "uid-1")], [("c1", Running)]);

        Assert.Equal("c1", index.Find("ws-old").Container?.Id);
    }

    [Fact]
    public void APodInAnotherKubernetesNamespaceIsNotTheWorkspace()
    {
        var index = new ContainerIndex("default");
        index.Replace([Sandbox("s1", "uid-1", ns: "intruder"), Workspace("c1", "uid-1", ns: "intruder")], [("c1", Running)]);

        var found = index.Find("inst-1");

        Assert.Equal(ContainerIndex.Outcome.NotYet, found.Outcome);
        Assert.Contains("in Kubernetes namespace default", found.WhyNot);
        // With the check off (podNamespace empty), as upstream, it would be taken.
        var any = new ContainerIndex("");
        any.Replace([Sandbox("s1", "uid-1", ns: "intruder"), Workspace("c1", "uid-1", ns: "intruder")], [("c1", Running)]);
        Assert.Equal(ContainerIndex.Outcome.Running, any.Find("inst-1").Outcome);
    }

    [Fact]
    public void AContainerOfAnotherPodIsNotTaken()
    {
        var index = new ContainerIndex("default");
        index.Replace([Sandbox("s1", "uid-1"), Sandbox("s2", "uid-2", instance: "inst-2"), Workspace("c2", "uid-2")], [("c2", Running)]);

        var found = index.Find("inst-1");

        Assert.Equal(ContainerIndex.Outcome.NotYet, found.Outcome);
        Assert.Contains("has no container named workspace", found.WhyNot);
    }

    [Fact]
    public void CreatedIsNotYetAndExitedIsFinal()
    {
        var index = new ContainerIndex("default");
        index.Replace([Sandbox("s1", "uid-1"), Workspace("c1", "uid-1")], []);
        Assert.Equal(ContainerIndex.Outcome.NotYet, index.Find("inst-1").Outcome);

        index.Update("c1", Workspace("c1", "uid-1"), new ContainerIndex.TaskState(4242, Running: false, Exited: true, 137));
        var exited = index.Find("inst-1");
        Assert.Equal(ContainerIndex.Outcome.Exited, exited.Outcome);
        Assert.Contains("has exited (status 137)", exited.WhyNot);

        // The pod's container restarted as a new container: that one is the workspace now.
        index.Update("c1-restarted", Workspace("c1-restarted", "uid-1"), Running);
        Assert.Equal("c1-restarted", index.Find("inst-1").Container?.Id);

        index.Update("c1-restarted", null, null);
        index.Update("c1", null, null);
        Assert.Contains("has no container named workspace", index.Find("inst-1").WhyNot);
    }

    [Theory]
    [InlineData("/k8s.io/abc", "/k8s.io/abc")]
    [InlineData("kubepods/besteffort/pod1/abc", "/kubepods/besteffort/pod1/abc")]
    [InlineData("kubepods-burstable-pod1.slice:cri-containerd:abc", "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice/cri-containerd-abc.scope")]
    [InlineData("kubepods-pod1.slice:cri-containerd:abc", "/kubepods.slice/kubepods-pod1.slice/cri-containerd-abc.scope")]
    [InlineData(":cri-containerd:abc", "/system.slice/cri-containerd-abc.scope")]
    [InlineData("-.slice::abc", "/abc.scope")]
    public void CgroupsPathsOfBothDriversBecomeCgroupV2Paths(string cgroupsPath, string expected) =>
        Assert.Equal(expected, CgroupsPath.Resolve(cgroupsPath));
}
