namespace Wsd.Storage;

/// <summary>Where an object lives: a bucket and a key in it. Snapshot URLs are "&lt;key&gt;@&lt;bucket&gt;" (docs/compatibility.md#snapshot-urls).</summary>
public readonly record struct ObjectLocation(string Bucket, string Key)
{
    public string Qualified => $"{Key}@{Bucket}";

    /// <summary>Parses "key@bucket": exactly one '@' with something on both sides, as upstream's ParseSnapshotName.</summary>
    public static bool TryParse(string qualified, out ObjectLocation location)
    {
        location = default;
        var parts = qualified.Split('@');
        if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
            return false;
        location = new ObjectLocation(parts[1], parts[0]);
        return true;
    }
}
