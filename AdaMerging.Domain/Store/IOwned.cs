namespace AdaMerging.Domain.Store;

/// <summary>Something that belongs to the owner of the API key that created it.</summary>
public interface IOwned
{
    string Owner { get; }
}
