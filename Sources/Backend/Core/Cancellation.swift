// LTOBackend: cancelling work that nobody wants any more: the work of a link whose shim
// went away (Ctrl-C, a killed build), and what runs on its behalf (compilers, waits for a
// job slot or for a build another link started).
import Synchronization

/// A flag set once, when the work it guards is no longer wanted, with the handlers to run at
/// that moment (stop a compiler, wake a thread that waits). Handlers run on the cancelling
/// thread, outside any lock of this object.
public final class Cancellation: Sendable {
    private struct State {
        var cancelled = false
        var handlers: [Int: @Sendable () -> Void] = [:]
        var nextID = 0
    }

    private let state = Mutex(State())

    public init() {}

    public var isCancelled: Bool { state.withLock { $0.cancelled } }

    /// Cancels: runs every registered handler once. Later calls do nothing.
    public func cancel() {
        let handlers = state.withLock { s -> [@Sendable () -> Void] in
            guard !s.cancelled else { return [] }
            s.cancelled = true
            defer { s.handlers = [:] }
            return Array(s.handlers.values)
        }
        for handler in handlers { handler() }
    }

    /// Throws `LinkCancelled` once cancelled.
    public func check() throws(LinkCancelled) {
        if isCancelled { throw LinkCancelled() }
    }

    /// Runs `handler` when this is cancelled, at once if it already is; `nil` then.
    public func onCancel(_ handler: @escaping @Sendable () -> Void) -> Registration? {
        let id = state.withLock { s -> Int? in
            guard !s.cancelled else { return nil }
            s.nextID += 1
            s.handlers[s.nextID] = handler
            return s.nextID
        }
        guard let id else {
            handler()
            return nil
        }
        return Registration(id: id)
    }

    /// Withdraws a handler; true if it had not run (and now never will).
    @discardableResult
    public func remove(_ registration: Registration?) -> Bool {
        guard let registration else { return false }
        return state.withLock { $0.handlers.removeValue(forKey: registration.id) } != nil
    }

    /// Runs `body` with `handler` registered for its duration.
    public func whileWatching<T, E: Error>(_ handler: @escaping @Sendable () -> Void, _ body: () throws(E) -> T) throws(E) -> T {
        let registration = onCancel(handler)
        defer { remove(registration) }
        return try body()
    }

    /// A registered handler.
    public struct Registration: Sendable {
        let id: Int
    }
}

/// What work throws when it stopped because its link no longer wants it.
public struct LinkCancelled: Error, CustomStringConvertible {
    public init() {}
    public var description: String { "the link was interrupted (its ltoc went away), so ltod stopped this job" }
}
