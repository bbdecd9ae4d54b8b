using System.Text.Json;

namespace Wsd.Observability;

/// <summary>
/// The work running right now, as the health listener's <c>/progress</c> serves it. The listener
/// knows only this; what counts as work and how it is counted is the content's (docs/architecture.md).
/// </summary>
public interface IProgressReport
{
    void WriteJson(Utf8JsonWriter json);
}
