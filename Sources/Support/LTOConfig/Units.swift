// LTOConfig: the units settings and commands are written in (sizes, durations), and the
// number formatting of what both binaries print.

/// Human sizes: `500M`, `5G`, `1.5G`, `1024` (bytes), binary multiples.
public enum ByteSize {
    public static func parse(_ text: String) -> UInt64? {
        let units: [Character: Double] = ["K": 0x1p10, "M": 0x1p20, "G": 0x1p30, "T": 0x1p40]
        var number = text.uppercased()
        if number.hasSuffix("IB") { number.removeLast(2) } else if number.hasSuffix("B") { number.removeLast() }
        var scale = 1.0
        if let last = number.last, let s = units[last] {
            scale = s
            number.removeLast()
        }
        guard let v = Double(number), v >= 0, v.isFinite, v * scale < 0x1p63 else { return nil }
        return UInt64(v * scale)
    }

    /// `1.5 GiB`, `12.0 KiB`, `300 B`.
    public static func format(_ bytes: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var v = Double(bytes)
        var i = 0
        while v >= 1024 && i < units.count - 1 { v /= 1024; i += 1 }
        return i == 0 ? "\(bytes) B" : decimal(v, places: 1) + " " + units[i]
    }
}

/// Durations: `250ms`, `90s`, `30m`, `12h`, `7d`, `2w`, or plain seconds.
public enum Duration {
    public static func parseSeconds(_ text: String) -> Double? {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800]
        var number = text
        var scale = 1.0
        if number.hasSuffix("ms") {
            scale = 0.001
            number.removeLast(2)
        } else if let last = number.last, let s = units[last] {
            scale = s
            number.removeLast()
        }
        guard let v = Double(number), v >= 0, v.isFinite else { return nil }
        return v * scale
    }
}

/// `value` with exactly `places` decimals, rounded half away from zero (no Foundation `String(format:)`).
public func decimal(_ value: Double, places: Int) -> String {
    var scale = 1.0
    for _ in 0..<places { scale *= 10 }
    let scaled = (abs(value) * scale).rounded()
    guard scaled < 0x1p62 else { return String(value) }
    let whole = Int(scaled)
    let sign = value < 0 && whole != 0 ? "-" : ""
    guard places > 0 else { return sign + String(whole) }
    let unit = Int(scale)
    let fraction = String(whole % unit)
    return sign + String(whole / unit) + "." + String(repeating: "0", count: places - fraction.count) + fraction
}

/// `word`, with an `s` unless `n` is 1.
public func plural(_ n: Int, _ word: String) -> String { n == 1 ? word : word + "s" }
