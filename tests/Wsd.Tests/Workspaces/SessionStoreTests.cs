using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Wsd.Content.Git;
using Wsd.Errors;
using Wsd.Tests.Support;
using Wsd.Workspaces;

namespace Wsd.Tests.Workspaces;

public sealed class SessionStoreTests : IDisposable
{
    readonly TempDirectory _dir = new();
    readonly WorkingArea _area;
    readonly ManualClock _clock = new(new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero));

    public SessionStoreTests() => _area = new WorkingArea(_dir.Combine("area"));

    public void Dispose() => _dir.Dispose();

    SessionStore NewStore()
    {
        var store = new SessionStore(_area, _clock, NullLogger<SessionStore>.Instance);
        store.Recover();
        return store;
    }

    static SessionSpec Spec(string id) => new(id, "owner-1", "meta-1", "repo", RemoteStorageDisabled: false, StorageQuotaBytes: 0);

    JsonElement OnDisk(string id) => JsonDocument.Parse(File.ReadAllText(_area.SessionFile(id))).RootElement;

    [Fact]
    public void CreationIsPersistedWithUpstreamsKeys()
    {
        var store = NewStore();

        store.Create(Spec("ws-1"));

        var file = OnDisk("ws-1");
        Assert.Equal("initializing", file.GetProperty("state").GetString());
        Assert.Equal("ws-1", file.GetProperty("workspaceID").GetString());
        Assert.Equal("meta-1", file.GetProperty("metaID").GetString());
        Assert.Equal("owner-1", file.GetProperty("owner").GetString());
        Assert.Equal(_area.ContentDir("ws-1"), file.GetProperty("location").GetString());
        Assert.Equal(_area.ServiceDir("ws-1"), file.GetProperty("serviceLocDaemon").GetString());
        Assert.Equal("repo", file.GetProperty("checkoutLocation").GetString());
        Assert.StartsWith("2026-11-27T12:00:00", file.GetProperty("createdAt").GetString());
        Assert.False(file.TryGetProperty("remoteStorageDisabled", out _)); // omitempty, as upstream
        Assert.Empty(Directory.EnumerateFiles(_area.Root, ".*")); // no temporaries left
    }

    [Fact]
    public void ASecondCreateIsAlreadyExistsAndLeavesTheFirstAlone()
    {
        var store = NewStore();
        var first = store.Create(Spec("ws-1"));
        store.MarkReady(first);

        var e = Assert.Throws<WsdException>(() => store.Create(Spec("ws-1")));

        Assert.Equal(ErrorCode.AlreadyExists, e.Code);
        Assert.Equal("workspace exists already", e.Message);
        Assert.Equal("ready", OnDisk("ws-1").GetProperty("state").GetString());
    }

    [Fact]
    public async Task WaitForInitReturnsWhenTheSessionBecomesReady()
    {
        var store = NewStore();
        var session = store.Create(Spec("ws-1"));

        var wait = store.WaitForInitAsync(session, TestContext.Current.CancellationToken);
        Assert.False(wait.IsCompleted);
        store.MarkReady(session);

        await wait.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal("ready", OnDisk("ws-1").GetProperty("state").GetString());
    }

    [Fact]
    public async Task ManyWaitersAllWakeWithoutALostWakeUp()
    {
        var store = NewStore();
        var session = store.Create(Spec("ws-1"));
        var waits = Enumerable.Range(0, 50).Select(_ => Task.Run(() => store.WaitForInitAsync(session, default))).ToArray();

        store.MarkReady(session);

        await Task.WhenAll(waits).WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task WaitForInitEndsWithTheCallersCancellation()
    {
        var store = NewStore();
        var session = store.Create(Spec("ws-1"));
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.WaitForInitAsync(session, cts.Token));
    }

    [Fact]
    public async Task AFailedInitIsFailedPreconditionForWaiters()
    {
        var store = NewStore();
        var session = store.Create(Spec("ws-1"));
        var wait = store.WaitForInitAsync(session, default);

        store.MarkFailed(session, "git clone failed");

        var e = await Assert.ThrowsAsync<WsdException>(() => wait);
        Assert.Equal(ErrorCode.FailedPrecondition, e.Code);
        Assert.Contains("workspace is not initializing or ready", e.Message);
        Assert.Equal("failed", OnDisk("ws-1").GetProperty("state").GetString());
    }

    [Fact]
    public async Task OfConcurrentDisposalsExactlyOneDoesTheWork()
    {
        var store = NewStore();
        var session = store.Create(Spec("ws-1"));
        store.MarkReady(session);
        Directory.CreateDirectory(session.ContentLocation);
        File.WriteAllText(Path.Combine(session.ContentLocation, "file"), "content");
        int finalized = 0;
        var release = new TaskCompletionSource();
        async Task<GitStatus?> Finalize(Session s, CancellationToken ct)
        {
            Interlocked.Increment(ref finalized);
            await release.Task;
            return new GitStatus { Branch = "main" };
        }

        var disposals = Enumerable.Range(0, 10).Select(_ => Task.Run(() => store.DisposeAsync(session, Finalize, default))).ToArray();
        await Task.Delay(100);
        release.SetResult();
        var results = await Task.WhenAll(disposals).WaitAsync(TimeSpan.FromSeconds(5));

        Assert.Equal(1, finalized);
        Assert.All(results, r => Assert.Equal("main", r?.Branch));
        Assert.False(store.Exists("ws-1"));
        Assert.False(File.Exists(_area.SessionFile("ws-1")));
        Assert.False(Directory.Exists(session.ContentLocation));
    }

    [Fact]
    public async Task AFailedDisposalKeepsTheContentAndCanBeRetried()
    {
        var store = NewStore();
        var session = store.Create(Spec("ws-1"));
        store.MarkReady(session);
        Directory.CreateDirectory(session.ContentLocation);

        await Assert.ThrowsAsync<IOException>(() => store.DisposeAsync(session, (_, _) => throw new IOException("backup failed"), default));

        Assert.Equal("disposing", OnDisk("ws-1").GetProperty("state").GetString());
        Assert.True(Directory.Exists(session.ContentLocation));
        await store.DisposeAsync(session, (_, _) => Task.FromResult<GitStatus?>(null), default);
        Assert.False(store.Exists("ws-1"));
    }

    [Fact]
    public async Task DisposingWhatIsAlreadyDisposedReturnsTheLastGitStatus()
    {
        var store = NewStore();
        var session = store.Create(Spec("ws-1"));
        store.MarkReady(session);
        await store.DisposeAsync(session, (_, _) => Task.FromResult<GitStatus?>(new GitStatus { Branch = "b" }), default);

        var again = await store.DisposeAsync(session, (_, _) => throw new InvalidOperationException("must not run twice"), default);

        Assert.Equal("b", again?.Branch);
    }

    [Fact]
    public async Task ARestartBringsSessionsBackAndFailsTheInitThatDied()
    {
        var before = NewStore();
        var ready = before.Create(Spec("ws-ready"));
        before.MarkReady(ready);
        var initializing = before.Create(Spec("ws-init"));
        Directory.CreateDirectory(initializing.ContentLocation);
        File.WriteAllText(Path.Combine(initializing.ContentLocation, "half-cloned"), "x");
        var disposing = before.Create(Spec("ws-disposing"));
        before.MarkReady(disposing);
        await Assert.ThrowsAsync<IOException>(() => before.DisposeAsync(disposing, (_, _) => throw new IOException("killed"), default));

        var after = NewStore(); // the daemon restarts

        Assert.Equal(SessionState.Ready, after.Get("ws-ready", "test").State);
        await after.WaitForInitAsync(after.Get("ws-ready", "test"), default);
        var failed = after.Get("ws-init", "test");
        var e = await Assert.ThrowsAsync<WsdException>(() => after.WaitForInitAsync(failed, default).WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Contains("interrupted by a daemon restart", e.Message);
        Assert.False(Directory.Exists(failed.ContentLocation));
        await after.DisposeAsync(after.Get("ws-disposing", "test"), (_, _) => Task.FromResult<GitStatus?>(null), default);
        Assert.False(after.Exists("ws-disposing"));
    }

    [Fact]
    public void UnknownIdsAreNotFoundInUpstreamsWords()
    {
        var e = Assert.Throws<WsdException>(() => NewStore().Get("nope", "WaitForInit"));

        Assert.Equal(ErrorCode.NotFound, e.Code);
        Assert.Equal("cannot find workspace nope during WaitForInit", e.Message);
    }

    [Fact]
    public void HousekeepingRemovesOldOrphansOnly()
    {
        var store = NewStore();
        var live = store.Create(Spec("ws-live"));
        Directory.CreateDirectory(live.ContentLocation);
        Directory.CreateDirectory(_area.ServiceDir("ws-live"));
        Directory.CreateDirectory(_area.ContentDir("orphan-old"));
        Directory.CreateDirectory(_area.ServiceDir("orphan-old"));
        Directory.CreateDirectory(_area.ContentDir("orphan-new"));
        foreach (var dir in new[] { live.ContentLocation, _area.ServiceDir("ws-live"), _area.ContentDir("orphan-old"), _area.ServiceDir("orphan-old") })
            Directory.SetLastWriteTimeUtc(dir, _clock.GetUtcNow().UtcDateTime.AddHours(-3));
        Directory.SetLastWriteTimeUtc(_area.ContentDir("orphan-new"), _clock.GetUtcNow().UtcDateTime);

        int removed = store.RemoveOrphans(TimeSpan.FromHours(2));

        Assert.Equal(2, removed);
        Assert.True(Directory.Exists(live.ContentLocation));
        Assert.True(Directory.Exists(_area.ServiceDir("ws-live")));
        Assert.False(Directory.Exists(_area.ContentDir("orphan-old")));
        Assert.True(Directory.Exists(_area.ContentDir("orphan-new")));
    }

    [Fact]
    public void AFilesCacheGoesWithItsWorkspaceAndNeverPassesToANewOneOfTheSameId()
    {
        var store = NewStore();
        store.Create(Spec("ws-live"));
        foreach (var id in new[] { "ws-live", "gone-old", "gone-new" })
            File.WriteAllText(_area.FilesCache(id), "cache");
        File.SetLastWriteTimeUtc(_area.FilesCache("ws-live"), _clock.GetUtcNow().UtcDateTime.AddHours(-3));
        File.SetLastWriteTimeUtc(_area.FilesCache("gone-old"), _clock.GetUtcNow().UtcDateTime.AddHours(-3));

        Assert.Equal(1, store.RemoveOrphans(TimeSpan.FromHours(2)));
        Assert.True(File.Exists(_area.FilesCache("ws-live")));
        Assert.False(File.Exists(_area.FilesCache("gone-old")));
        Assert.True(File.Exists(_area.FilesCache("gone-new"))); // young: a dispose may be finishing

        // A new workspace of an ID starts without the cache an earlier one of that ID left.
        store.Create(Spec("gone-new"));
        Assert.False(File.Exists(_area.FilesCache("gone-new")));
        // And no ID can be taken for one.
        Assert.Equal(ErrorCode.InvalidArgument, Assert.Throws<WsdException>(() => store.Create(Spec("ws-live.files-cache"))).Code);
    }

    [Fact]
    public async Task RemovingContentNeverFollowsASymlinkOutOfIt()
    {
        var store = NewStore();
        var session = store.Create(Spec("ws-1"));
        Directory.CreateDirectory(_dir.Combine("precious"));
        File.WriteAllText(_dir.Combine("precious", "keep"), "mine");
        Directory.CreateDirectory(session.ContentLocation);
        Directory.CreateSymbolicLink(Path.Combine(session.ContentLocation, "link"), _dir.Combine("precious"));

        await store.DisposeAsync(session, (_, _) => Task.FromResult<GitStatus?>(null), default);

        Assert.Equal("mine", File.ReadAllText(_dir.Combine("precious", "keep")));
    }

    [Theory]
    [InlineData("")]                                        // truncated to nothing
    [InlineData("{\"workspaceID\":\"ws-1\",\"state\":\"rea")] // cut off mid-write
    [InlineData("\u0000\u0000garbage\u00ff")]
    [InlineData("{\"workspaceID\":\"ws-2\",\"state\":\"ready\"}")] // another workspace's
    [InlineData("{\"workspaceID\":\"ws-1\",\"state\":\"sleeping\"}")] // no such state
    public void ACorruptSessionFileIsMovedAsideWithItsContentKeptAndTheIdRefused(string text)
    {
        var first = NewStore();
        var good = first.Create(Spec("ws-good"));
        first.MarkReady(good);
        Directory.CreateDirectory(_area.ContentDir("ws-1"));
        File.WriteAllText(Path.Combine(_area.ContentDir("ws-1"), "work.txt"), "precious");
        File.WriteAllText(_area.SessionFile("ws-1"), text);
        var log = new ListLogger<SessionStore>();

        var store = new SessionStore(_area, _clock, log);
        var recovered = store.Recover();

        Assert.Equal(["ws-good"], recovered.Select(s => s.Id));
        Assert.False(store.Exists("ws-1"));
        Assert.False(File.Exists(_area.SessionFile("ws-1")));
        Assert.Equal(text, File.ReadAllText(_area.SessionFile("ws-1") + WorkingArea.CorruptSuffix));
        Assert.Contains(log.Entries, e => e.Level == LogLevel.Error && e.Message.Contains("is corrupt") && e.Message.Contains(".corrupt"));
        var refused = Assert.Throws<WsdException>(() => store.Create(Spec("ws-1")));
        Assert.Equal(ErrorCode.FailedPrecondition, refused.Code);
        Assert.Contains(_area.SessionFile("ws-1") + WorkingArea.CorruptSuffix, refused.Message);

        // Housekeeping never takes the content for an orphan, however old; a second start keeps both.
        Directory.SetLastWriteTimeUtc(_area.ContentDir("ws-1"), _clock.GetUtcNow().UtcDateTime.AddDays(-3));
        File.SetLastWriteTimeUtc(_area.SessionFile("ws-1") + WorkingArea.CorruptSuffix, _clock.GetUtcNow().UtcDateTime.AddDays(-3));
        store.RemoveOrphans(TimeSpan.FromHours(2));
        new SessionStore(_area, _clock, log).Recover();
        Assert.Equal("precious", File.ReadAllText(Path.Combine(_area.ContentDir("ws-1"), "work.txt")));
        Assert.True(File.Exists(_area.SessionFile("ws-1") + WorkingArea.CorruptSuffix));
    }

    [Fact]
    public async Task AStateThatCannotBeWrittenStillWakesWaitersAndIsWrittenLater()
    {
        var store = NewStore();
        var session = store.Create(Spec("ws-1"));
        var waiter = store.WaitForInitAsync(session, CancellationToken.None);
        // A non-empty directory where the file goes: every rename over it fails, as on a full disk.
        string path = _area.SessionFile("ws-1");
        File.Delete(path);
        Directory.CreateDirectory(Path.Combine(path, "blocker"));

        store.MarkFailed(session, "no space left");

        var e = await Assert.ThrowsAsync<WsdException>(() => waiter.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(ErrorCode.FailedPrecondition, e.Code);
        Assert.Contains("no space left", e.Message);
        Assert.Equal(SessionState.Failed, session.State);
        Assert.True(session.Unsaved);
        Assert.Equal(1, store.RepairUnsaved());

        Directory.Delete(path, recursive: true);
        Assert.Equal(0, store.RepairUnsaved());
        Assert.False(session.Unsaved);
        Assert.Equal("failed", OnDisk("ws-1").GetProperty("state").GetString());
        Assert.Equal("no space left", OnDisk("ws-1").GetProperty("failure").GetString());
    }

    [Fact]
    public async Task ADisposeWhoseStateCannotBeWrittenStillFinalizesAndCanBeRetried()
    {
        var store = NewStore();
        var session = store.Create(Spec("ws-1"));
        store.MarkReady(session);
        Directory.CreateDirectory(session.ContentLocation);
        string temporaryBlocker = _area.SessionFile("ws-1");
        File.Delete(temporaryBlocker);
        Directory.CreateDirectory(temporaryBlocker); // empty: File.Delete of the session file fails on it, and so does writing

        int finalized = 0;
        Task<GitStatus?> Finalize(Session s, CancellationToken ct)
        {
            finalized++;
            return Task.FromResult<GitStatus?>(null);
        }
        await Assert.ThrowsAnyAsync<Exception>(() => store.DisposeAsync(session, Finalize, CancellationToken.None));
        Assert.Equal(1, finalized); // "disposing" not on disk did not stop the final backup
        Assert.Equal(SessionState.Disposing, session.State); // moved on in memory; the content stays for a retry
        Assert.True(Directory.Exists(session.ContentLocation));

        Directory.Delete(temporaryBlocker);
        await store.DisposeAsync(session, Finalize, CancellationToken.None);
        Assert.Equal(2, finalized);
        Assert.False(store.Exists("ws-1"));
        Assert.False(Directory.Exists(session.ContentLocation));
        Assert.False(File.Exists(_area.SessionFile("ws-1")));
        Assert.False(Directory.Exists(_area.SessionFile("ws-1")));
    }
}
