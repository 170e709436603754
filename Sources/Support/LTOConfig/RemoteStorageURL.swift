// LTOConfig: the address of a remote cache tier (`remote_storage`), parsed as pure logic
// so that a malformed URL is refused when the configuration is read, with the accepted
// forms in the message. Parsed by hand: the two Redis URL forms are small, and the shim
// links this module, which must stay Foundation-free.

/// Where a remote cache tier is and how to log in to it.
public struct RemoteStorageURL: Equatable, Sendable, CustomStringConvertible {
    /// How the server is reached.
    public enum Endpoint: Equatable, Sendable {
        case tcp(host: String, port: Int)
        case unix(path: String)
    }

    public let endpoint: Endpoint
    /// The ACL user (Redis 6 and later); nil for the default user.
    public let user: String?
    /// The password for AUTH; nil for none.
    public let password: String?
    /// The logical database to SELECT.
    public let database: Int

    public static let defaultPort = 6379
    /// The forms `parse` accepts, for messages and help.
    public static let acceptedForms = "redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] or redis+unix://[[USER]:PASSWORD@]/PATH/TO/SOCKET[?db=DB]"

    public init(endpoint: Endpoint, user: String? = nil, password: String? = nil, database: Int = 0) {
        self.endpoint = endpoint
        self.user = user
        self.password = password
        self.database = database
    }

    /// The URL without its password, for messages, logs and `ltoc config`.
    public var description: String {
        let login = user.map { $0 + (password == nil ? "" : ":***") + "@" } ?? (password == nil ? "" : ":***@")
        switch endpoint {
        case .tcp(let host, let port):
            let shownHost = host.contains(":") ? "[\(host)]" : host
            return "redis://\(login)\(shownHost):\(port)/\(database)"
        case .unix(let path):
            return "redis+unix://\(login)\(path)" + (database == 0 ? "" : "?db=\(database)")
        }
    }

    /// Parses one of `acceptedForms`; the error says what is wrong and lists the forms.
    public static func parse(_ text: String) throws(RemoteStorageURLError) -> RemoteStorageURL {
        if text.hasPrefix("redis+unix://") { return try parseUnix(String(text.dropFirst("redis+unix://".count))) }
        if text.hasPrefix("redis://") { return try parseTCP(String(text.dropFirst("redis://".count))) }
        if text.hasPrefix("rediss://") {
            throw RemoteStorageURLError("TLS (rediss://) is not supported by hiredis 0.14; reach the server through a tunnel (docs/REMOTE.md)")
        }
        throw RemoteStorageURLError("the URL does not start with redis:// or redis+unix://")
    }

    /// `[[USER]:PASSWORD@]HOST[:PORT][/DB]`
    private static func parseTCP(_ rest: String) throws(RemoteStorageURLError) -> RemoteStorageURL {
        try refuseQueryAndFragment(rest)
        let (login, location) = try splitLogin(rest)
        var hostPort = location
        var database = 0
        if let slash = location.firstIndex(of: "/") {
            hostPort = String(location[..<slash])
            let db = String(location[location.index(after: slash)...])
            if !db.isEmpty { database = try parseDatabase(db) }
        }
        let (host, port) = try splitHostPort(hostPort)
        return RemoteStorageURL(endpoint: .tcp(host: host, port: port), user: login.user, password: login.password, database: database)
    }

    /// `[[USER]:PASSWORD@]/PATH[?db=DB]`
    private static func parseUnix(_ rest: String) throws(RemoteStorageURLError) -> RemoteStorageURL {
        guard !rest.contains("#") else { throw RemoteStorageURLError("a URL fragment (#...) has no meaning here") }
        var location = rest
        var database = 0
        if let question = rest.firstIndex(of: "?") {
            location = String(rest[..<question])
            let query = String(rest[rest.index(after: question)...])
            guard query.hasPrefix("db=") else { throw RemoteStorageURLError("the only query parameter is db=N, not \(quoted(query))") }
            database = try parseDatabase(String(query.dropFirst(3)))
        }
        let (login, path) = try splitLogin(location)
        guard path.hasPrefix("/"), path.count > 1 else {
            throw RemoteStorageURLError("redis+unix:// needs an absolute socket path, as in redis+unix:///run/redis/redis.sock")
        }
        return RemoteStorageURL(endpoint: .unix(path: try percentDecoded(path, what: "the socket path")), user: login.user,
                                password: login.password, database: database)
    }

    private static func refuseQueryAndFragment(_ rest: String) throws(RemoteStorageURLError) {
        if rest.contains("?") { throw RemoteStorageURLError("redis:// takes the database as /DB, not as a query") }
        if rest.contains("#") { throw RemoteStorageURLError("a URL fragment (#...) has no meaning here") }
    }

    /// Splits `[[USER]:PASSWORD@]REST` at the last `@` (a password may hold `@` only percent-encoded,
    /// but a stray one is still taken as part of the login rather than of the host).
    private static func splitLogin(_ text: String) throws(RemoteStorageURLError) -> (login: (user: String?, password: String?), rest: String) {
        guard let at = text.lastIndex(of: "@") else { return ((nil, nil), text) }
        let login = String(text[..<at])
        let rest = String(text[text.index(after: at)...])
        guard let colon = login.firstIndex(of: ":") else {
            throw RemoteStorageURLError("the login before @ has no password; write USER:PASSWORD@ or :PASSWORD@")
        }
        let user = try percentDecoded(String(login[..<colon]), what: "the user name")
        let password = try percentDecoded(String(login[login.index(after: colon)...]), what: "the password")
        return ((user.isEmpty ? nil : user, password), rest)
    }

    /// `HOST`, `HOST:PORT`, `[IPV6]` or `[IPV6]:PORT`.
    private static func splitHostPort(_ text: String) throws(RemoteStorageURLError) -> (String, Int) {
        var host = text
        var portText: String?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw RemoteStorageURLError("the IPv6 address \(quoted(text)) has no closing ]") }
            host = String(text[text.index(after: text.startIndex)..<close])
            let after = text[text.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw RemoteStorageURLError("unexpected \(quoted(String(after))) after the IPv6 address") }
                portText = String(after.dropFirst())
            }
        } else if let colon = text.lastIndex(of: ":") {
            host = String(text[..<colon])
            portText = String(text[text.index(after: colon)...])
        }
        guard !host.isEmpty else { throw RemoteStorageURLError("the host is missing") }
        let allowed = host.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || ("0"..."9").contains($0) || "-._:".unicodeScalars.contains($0) }
        guard allowed, !host.contains(":") || text.hasPrefix("[") else {
            throw RemoteStorageURLError("\(quoted(host)) is not a host name or address (write an IPv6 address in brackets)")
        }
        guard let portText else { return (host, defaultPort) }
        guard let port = Int(portText), (1...65535).contains(port) else {
            throw RemoteStorageURLError("the port \(quoted(portText)) is not a number from 1 to 65535")
        }
        return (host, port)
    }

    private static func parseDatabase(_ text: String) throws(RemoteStorageURLError) -> Int {
        guard let n = Int(text), n >= 0, n < 1 << 20 else { throw RemoteStorageURLError("the database \(quoted(text)) is not a number (0, 1, ...)") }
        return n
    }

    /// `%XX` escapes replaced by their bytes, which must form UTF-8.
    private static func percentDecoded(_ text: String, what: String) throws(RemoteStorageURLError) -> String {
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard utf8.count >= 2, let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) else {
                throw RemoteStorageURLError("\(what) has a % that is not followed by two hex digits")
            }
            bytes.append(value)
            utf8 = utf8.dropFirst(2)
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else { throw RemoteStorageURLError("\(what) is not UTF-8 once decoded") }
        return decoded
    }

    private static func quoted(_ s: String) -> String { "'" + s + "'" }
}

/// Why a `remote_storage` value is not a URL ltod can use; the message lists the accepted forms.
public struct RemoteStorageURLError: Error, Equatable, CustomStringConvertible {
    public let reason: String

    init(_ reason: String) { self.reason = reason }

    public var description: String { "\(reason); expected \(RemoteStorageURL.acceptedForms)" }
}
