namespace AdaMerging.Domain.Store;

/// <summary>Something an owner lists, newest first, by cursor: its id and when it was made.</summary>
public interface IListed : IOwned
{
    Guid Id { get; }

    DateTimeOffset CreatedAt { get; }
}
