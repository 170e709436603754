// LTOStorage: when the remote tier may be used, as pure logic over times passed in: after a
// fault it is skipped for a back-off period, then one request probes it; and the line a
// link shows when the tier was skipped or failed while it ran.

/// The remote tier's health. After a fault the tier is skipped for a back-off period that
/// doubles with every fault in a row (from `initialBackOff` up to `maximumBackOff`); when it
/// ends, one request probes the tier while the others still skip it. A success ends the
/// episode. Failures of requests that were already under way when the back-off began do
/// not lengthen it.
public struct RemoteHealth: Sendable {
    public enum Admission: Equatable, Sendable {
        case use
        case skip
    }

    public let initialBackOff: Double
    public let maximumBackOff: Double
    public private(set) var faultsInARow = 0
    /// Until when requests are skipped (seconds, on the clock the times are given in).
    public private(set) var skipUntil = 0.0
    /// What went wrong last.
    public private(set) var lastFault: String?
    /// When a request last failed or was skipped.
    public private(set) var lastTrouble: Double?
    private var probing = false

    public init(initialBackOff: Double = 10, maximumBackOff: Double = 300) {
        self.initialBackOff = initialBackOff
        self.maximumBackOff = maximumBackOff
    }

    /// Whether a request may go to the tier at `now`; a skip is remembered as trouble.
    public mutating func admit(at now: Double) -> Admission {
        guard faultsInARow > 0 else { return .use }
        if now < skipUntil || probing {
            lastTrouble = now
            return .skip
        }
        probing = true
        return .use
    }

    /// A request was answered (a hit or a miss).
    public mutating func succeeded() {
        faultsInARow = 0
        probing = false
    }

    /// A request failed at `now` because of `reason`.
    public mutating func failed(_ reason: String, at now: Double) {
        lastFault = reason
        lastTrouble = now
        if faultsInARow > 0 && !probing && now < skipUntil { return }
        faultsInARow += 1
        probing = false
        var period = initialBackOff
        for _ in 1..<faultsInARow where period < maximumBackOff { period *= 2 }
        skipUntil = now + min(period, maximumBackOff)
    }

    /// The line for a link that started at `start` and ends at `now`, if a request to the
    /// tier named `name` failed or was skipped since it started.
    public func warning(since start: Double, now: Double, name: String) -> String? {
        guard let trouble = lastTrouble, trouble >= start, let fault = lastFault else { return nil }
        let retry = skipUntil > now ? "tried again in \(Int((skipUntil - now).rounded(.up))) s" : "tried again on the next link"
        return "remote cache \(name) skipped for part of this link (\(fault)); the local cache served it; the remote one is \(retry)"
    }
}
