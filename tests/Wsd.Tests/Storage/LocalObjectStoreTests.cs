using System.Text;
using Wsd.Errors;
using Wsd.Storage;
using Wsd.Tests.Support;

namespace Wsd.Tests.Storage;

public sealed class LocalObjectStoreTests : IDisposable
{
    readonly TempDirectory _dir = new();
    readonly LocalObjectStore _store;
    readonly ObjectLocation _backup;

    public LocalObjectStoreTests()
    {
        _store = new LocalObjectStore(_dir.Combine("storage"), "local");
        _backup = new ObjectLocation("local", ObjectNames.Key("u1", "ws1", ObjectNames.Backup));
    }

    public void Dispose() => _dir.Dispose();

    async Task Put(ObjectLocation location, string content, bool commit = true)
    {
        await using var upload = await _store.BeginUploadAsync(location, default);
        await upload.Content.WriteAsync(Encoding.UTF8.GetBytes(content));
        if (commit)
            await upload.CommitAsync("digest-of-" + content, default);
    }

    async Task<(string Content, string? Digest)?> Get(ObjectLocation location)
    {
        await using var stored = await _store.OpenReadAsync(location, default);
        if (stored is null)
            return null;
        using var reader = new StreamReader(stored.Content);
        return (await reader.ReadToEndAsync(), stored.Sha256);
    }

    [Fact]
    public async Task ACommittedUploadIsReadBackWithItsDigest()
    {
        await Put(_backup, "archive bytes");

        Assert.Equal(("archive bytes", "digest-of-archive bytes"), await Get(_backup));
        Assert.True(File.Exists(_dir.Combine("storage/local/u1/workspaces/ws1/full.tar")));
    }

    [Fact]
    public async Task AnUploadNeverCommittedLeavesNothing()
    {
        await Put(_backup, "half an archive", commit: false);

        Assert.Null(await Get(_backup));
        Assert.Empty(Directory.EnumerateFiles(_dir.Combine("storage"), "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task TheOldObjectStaysUntilTheNewOneIsCommitted()
    {
        await Put(_backup, "first");
        await using (var upload = await _store.BeginUploadAsync(_backup, default))
        {
            await upload.Content.WriteAsync("second, still being written"u8.ToArray());

            Assert.Equal(("first", "digest-of-first"), await Get(_backup));
        }

        Assert.Equal(("first", "digest-of-first"), await Get(_backup));
    }

    [Fact]
    public async Task AbandonedUploadsFromACrashAreRemoved()
    {
        var upload = await _store.BeginUploadAsync(_backup, default);
        await upload.Content.WriteAsync("interrupted"u8.ToArray());
        upload.Content.Dispose(); // the process "dies": no commit, no cleanup

        Assert.Equal(1, _store.RemoveAbandonedUploads());
        Assert.Empty(Directory.EnumerateFiles(_dir.Combine("storage"), "*", SearchOption.AllDirectories));
    }

    [Theory]
    [InlineData("u1/../../etc/passwd")]
    [InlineData("/absolute")]
    [InlineData("u1/.hidden")]
    public async Task KeysThatLeaveTheStoreAreRefused(string key)
    {
        var e = await Assert.ThrowsAsync<WsdException>(() => _store.OpenReadAsync(new ObjectLocation("local", key), default));

        Assert.Equal(ErrorCode.InvalidArgument, e.Code);
    }

    [Fact]
    public async Task AnotherBucketIsNotFound()
    {
        var e = await Assert.ThrowsAsync<WsdException>(() => _store.OpenReadAsync(new ObjectLocation("elsewhere", "k"), default));

        Assert.Equal(ErrorCode.NotFound, e.Code);
    }
}

public class ObjectNamesTests
{
    [Fact]
    public void KeysFollowTheSharedBucketLayout() =>
        Assert.Equal("u1/workspaces/ws1/full.tar", ObjectNames.Key("u1", "ws1", ObjectNames.Backup));

    [Fact]
    public void SnapshotNamesCarryUnixNanoseconds() =>
        Assert.Equal("snapshot-1685550000000000000.tar", ObjectNames.Snapshot(DateTimeOffset.FromUnixTimeSeconds(1685550000)));

    [Theory]
    [InlineData("", "ws1")]
    [InlineData("u1", "")]
    [InlineData("..", "ws1")]
    [InlineData("u/1", "ws1")]
    [InlineData("u1", "ws@1")]
    public void OwnersAndWorkspaceIdsMustBePlainComponents(string owner, string workspace) =>
        Assert.Equal(ErrorCode.InvalidArgument, Assert.Throws<WsdException>(() => ObjectNames.Key(owner, workspace, "full.tar")).Code);

    [Fact]
    public void QualifiedNamesRoundTrip()
    {
        var location = new ObjectLocation("b", "u1/workspaces/ws1/snapshot-1.tar");

        Assert.Equal("u1/workspaces/ws1/snapshot-1.tar@b", location.Qualified);
        Assert.True(ObjectLocation.TryParse(location.Qualified, out var parsed));
        Assert.Equal(location, parsed);
    }

    [Theory]
    [InlineData("no-bucket")]
    [InlineData("a@b@c")]
    [InlineData("@bucket")]
    [InlineData("key@")]
    public void MalformedQualifiedNamesDoNotParse(string text) => Assert.False(ObjectLocation.TryParse(text, out _));
}
