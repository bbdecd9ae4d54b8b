using Grpc.Core;
using Grpc.Net.Client;
using Wsd.Api.Iws;
using Wsd.Runtime;

namespace Wsd.Cli;

/// <summary>
/// <c>wsd iws SOCKET COMMAND</c>: calls a workspace's daemon.sock as workspacekit does, for operators
/// checking a workspace and for the kernel lab's scenarios. One JSON object per result; exit 1 with
/// the gRPC status on failure.
/// </summary>
static class IwsCommand
{
    public const string Usage = """
          wsd iws SOCKET COMMAND                call a workspace's daemon.sock
            prepare | evacuate | info | teardown | mount-proc PID TARGET | mount-sysfs PID TARGET
            umount-proc PID TARGET | umount-sysfs PID TARGET | idmap PID uid|gid C:H:N...
            mount-nfs PID HOST:/PATH TARGET [OPTIONS] | umount-nfs PID TARGET
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length < 2)
            throw new UsageException("iws needs a socket path and a command");
        using var channel = UnixSocketChannel.Create(args[0]);
        var client = new InWorkspaceService.InWorkspaceServiceClient(channel);
        try
        {
            switch (args[1..])
            {
                case ["prepare"]:
                    var prepared = await client.PrepareForUserNSAsync(new PrepareForUserNSRequest());
                    Print(json => json.WriteString("fsShift", prepared.FsShift == FSShiftMethod.Idmapped ? "IDMAPPED" : "SHIFTFS")); // the wire names
                    break;
                case ["evacuate"]:
                    await client.EvacuateCGroupAsync(new EvacuateCGroupRequest());
                    Print(json => json.WriteBoolean("evacuated", true));
                    break;
                case ["info"]:
                    var info = await client.WorkspaceInfoAsync(new WorkspaceInfoRequest());
                    Print(json =>
                    {
                        json.WriteNumber("cpuUsedMillicores", info.Resources.Cpu.Used);
                        json.WriteNumber("cpuLimitMillicores", info.Resources.Cpu.Limit);
                        json.WriteNumber("memoryUsedBytes", info.Resources.Memory.Used);
                        json.WriteNumber("memoryLimitBytes", info.Resources.Memory.Limit);
                    });
                    break;
                case ["teardown"]:
                    var teardown = await client.TeardownAsync(new TeardownRequest());
                    Print(json => json.WriteBoolean("success", teardown.Success));
                    break;
                case [var mount and ("mount-proc" or "mount-sysfs"), var pid, var target]:
                    var request = new MountProcRequest { Pid = Pid(pid), Target = target };
                    await (mount == "mount-proc" ? client.MountProcAsync(request) : client.MountSysfsAsync(request));
                    Print(json => json.WriteString("mounted", target));
                    break;
                case [var umount and ("umount-proc" or "umount-sysfs"), var pid, var target]:
                    var unmount = new UmountProcRequest { Pid = Pid(pid), Target = target };
                    await (umount == "umount-proc" ? client.UmountProcAsync(unmount) : client.UmountSysfsAsync(unmount));
                    Print(json => json.WriteString("unmounted", target));
                    break;
                case ["mount-nfs", var pid, var source, var target, .. var rest] when rest.Length <= 1:
                    await client.MountNfsAsync(new MountNfsRequest { Pid = Pid(pid), Source = source, Target = target, Args = rest.FirstOrDefault() ?? "" });
                    Print(json => json.WriteString("mounted", target));
                    break;
                case ["umount-nfs", var pid, var target]:
                    await client.UmountNfsAsync(new UmountNfsRequest { Pid = Pid(pid), Target = target });
                    Print(json => json.WriteString("unmounted", target));
                    break;
                case ["idmap", var pid, var kind and ("uid" or "gid"), .. var entries] when entries.Length > 0:
                    var idmap = new WriteIDMappingRequest { Pid = Pid(pid), Gid = kind == "gid" };
                    foreach (var entry in entries)
                    {
                        var range = Linux.IdRange.Parse(entry);
                        idmap.Mapping.Add(new WriteIDMappingRequest.Types.Mapping { ContainerId = range.Container, HostId = range.Host, Size = range.Size });
                    }
                    await client.WriteIDMappingAsync(idmap);
                    Print(json => json.WriteBoolean("written", true));
                    break;
                default:
                    throw new UsageException($"unknown iws command '{string.Join(' ', args[1..])}'");
            }
            return 0;
        }
        catch (RpcException e)
        {
            return JsonLine.PrintError(e);
        }
    }

    static long Pid(string text) => long.TryParse(text, out long pid) ? pid : throw new UsageException($"'{text}' is not a PID");

    static void Print(Action<System.Text.Json.Utf8JsonWriter> write) => Console.WriteLine(JsonLine.Of(write));
}
