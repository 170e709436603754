// LTOBackend: a map bounded by least-recent use, for what the daemon keeps in memory per
// target or per link, so that its memory follows what is in use, not its history.
import OrderedCollections

/// A map that keeps at most `capacity` entries, forgetting the least recently used first.
public struct RecentlyUsed<Key: Hashable, Value> {
    public let capacity: Int
    /// Least recently used first.
    private var entries: OrderedDictionary<Key, Value> = [:]

    public init(capacity: Int) { self.capacity = max(1, capacity) }

    public var count: Int { entries.count }

    /// The values, most recently used first.
    public var values: [Value] { entries.values.reversed() }

    /// The value of `key`, without counting as a use.
    public subscript(key: Key) -> Value? { entries[key] }

    /// The value of `key`, which becomes the most recently used.
    public mutating func use(_ key: Key) -> Value? {
        guard let value = entries.removeValue(forKey: key) else { return nil }
        entries[key] = value
        return value
    }

    /// Sets `key` as the most recently used; returns the values that left: the one it
    /// replaced, and the least recently used beyond the capacity.
    @discardableResult
    public mutating func insert(_ value: Value, for key: Key) -> [Value] {
        var left: [Value] = []
        if let old = entries.removeValue(forKey: key) { left.append(old) }
        entries[key] = value
        while entries.count > capacity { left.append(entries.removeFirst().value) }
        return left
    }
}
