import Foundation
import LTOConfig
import LTOTestSupport
import Testing

@Suite struct PlacesTests {
    @Test func socketPathFollowsTheContract() {
        #expect(Places { $0 == "LTOD_SOCKET" ? "/x/s" : nil }.socket == "/x/s")
        #expect(Places { $0 == "XDG_RUNTIME_DIR" ? "/run/user/7" : nil }.socket == "/run/user/7/ltod/socket")
        #expect(Places { _ in nil }.socket == "/tmp/ltod-\(getuid())/socket")
        #expect(Places.fallbackLog(forSocket: "/a/b/socket") == "/a/b/fallbacks")
    }

    @Test func cacheAndConfigFollowXDG() {
        let env = ["HOME": "/h", "XDG_CACHE_HOME": "/c", "XDG_CONFIG_HOME": "/k"]
        #expect(Places { env[$0] }.cacheDirectory == "/c/ltod")
        #expect(Places { env[$0] }.configFile == "/k/ltod/config.toml")
        #expect(Places { ["HOME": "/h"][$0] }.cacheDirectory == "/h/.cache/ltod")
        #expect(Places { ["HOME": "/h", "LTOD_CONFIG": "/etc/x.toml"][$0] }.configFile == "/etc/x.toml")
        #expect(Places { ["HOME": "/h", "LTOD_CACHE_DIR": "/d"][$0] }.logFile == "/d/ltod.log")
    }
}

@Suite struct SettingsTests {
    @Test func everySettingIsInTheHelpWithItsVariableAndDefault() {
        let help = Setting.helpText(defaults: Configuration(places: Places { _ in nil }))
        for s in Setting.all {
            #expect(help.contains(s.environment) && help.contains("config.toml: \(s.key);"), "\(s.key)")
        }
        #expect(help.contains("default 1to1"))
    }

    @Test func sizesAndDurations() {
        #expect(ByteSize.parse("500M") == 500 << 20)
        #expect(ByteSize.parse("1.5G") == 3 << 29)
        #expect(ByteSize.parse("5GiB") == 5 << 30)
        #expect(ByteSize.parse("x") == nil)
        #expect(ByteSize.format(1536) == "1.5 KiB")
        #expect(ByteSize.format(300) == "300 B")
        #expect(Duration.parseSeconds("12h") == 43200)
        #expect(Duration.parseSeconds("7d") == 604800)
        #expect(Duration.parseSeconds("-1") == nil)
        #expect(Duration.parseSeconds("250ms") == 0.25 && Duration.parseSeconds("1.5s") == 1.5)
        #expect(decimal(2.345, places: 2) == "2.35" && decimal(0.05, places: 1) == "0.1" && decimal(-0.04, places: 1) == "0.0")
        #expect(decimal(12, places: 0) == "12")
    }

    @Test func theShimReadsTopLevelKeysOnly() throws {
        let dir = try TemporaryDirectory("config")
        try dir.write("config.toml", "# comment\nstrict = true  # yes\npartition = \"keep\"\n[table]\njobs = 3\n")
        #expect(ConfigScan.assignment(of: "strict", inFile: dir.file("config.toml"))! == ("true", 2))
        #expect(ConfigScan.assignment(of: "partition", inFile: dir.file("config.toml"))! == ("keep", 3))
        #expect(ConfigScan.assignment(of: "jobs", inFile: dir.file("config.toml")) == nil)
        #expect(ConfigScan.assignment(of: "strict", inFile: dir.file("missing.toml")) == nil)
    }
}

@Suite struct RemoteStorageURLTests {
    @Test func acceptsTheRedisForms() throws {
        #expect(try RemoteStorageURL.parse("redis://cache.example") == RemoteStorageURL(endpoint: .tcp(host: "cache.example", port: 6379)))
        #expect(try RemoteStorageURL.parse("redis://127.0.0.1:7000/2")
            == RemoteStorageURL(endpoint: .tcp(host: "127.0.0.1", port: 7000), database: 2))
        #expect(try RemoteStorageURL.parse("redis://ci:p%40ss%3Aw@h:1/")
            == RemoteStorageURL(endpoint: .tcp(host: "h", port: 1), user: "ci", password: "p@ss:w"))
        #expect(try RemoteStorageURL.parse("redis://:pw@h") == RemoteStorageURL(endpoint: .tcp(host: "h", port: 6379), password: "pw"))
        #expect(try RemoteStorageURL.parse("redis://[::1]:6380") == RemoteStorageURL(endpoint: .tcp(host: "::1", port: 6380)))
        #expect(try RemoteStorageURL.parse("redis+unix:///run/redis/redis.sock") == RemoteStorageURL(endpoint: .unix(path: "/run/redis/redis.sock")))
        #expect(try RemoteStorageURL.parse("redis+unix://:pw@/run/r.sock?db=4")
            == RemoteStorageURL(endpoint: .unix(path: "/run/r.sock"), password: "pw", database: 4))
    }

    @Test func showsNoPassword() throws {
        #expect(try RemoteStorageURL.parse("redis://ci:secret@h:1/3").description == "redis://ci:***@h:1/3")
        #expect(try RemoteStorageURL.parse("redis://:secret@h").description == "redis://:***@h:6379/0")
        #expect(try RemoteStorageURL.parse("redis+unix:///s?db=1").description == "redis+unix:///s?db=1")
    }

    @Test func refusesWhatItCannotUseWithTheAcceptedForms() {
        let cases: [(String, String)] = [
            ("http://h", "does not start with redis://"),
            ("rediss://h", "TLS"),
            ("redis://", "host is missing"),
            ("redis://h:0", "port '0'"),
            ("redis://h:http", "port 'http'"),
            ("redis://h/x", "database 'x'"),
            ("redis://h?db=1", "not as a query"),
            ("redis://user@h", "no password"),
            ("redis://h h", "not a host name"),
            ("redis://::1", "brackets"),
            ("redis+unix://run/r.sock", "absolute socket path"),
            ("redis+unix:///r.sock?timeout=1", "db=N"),
            ("redis://:p%4@h", "two hex digits"),
        ]
        for (text, reason) in cases {
            #expect { try RemoteStorageURL.parse(text) } throws: { error in
                let message = "\(error)"
                return message.contains(reason) && message.hasSuffix("expected " + RemoteStorageURL.acceptedForms)
            }
        }
    }

    @Test func theSettingsTakeTheURLAndItsOptions() throws {
        let c = try Configuration(environment: ["HOME": "/h", "LTOD_REMOTE_STORAGE": "redis://:pw@10.0.0.5:7001/1",
                                                "LTOD_REMOTE_READ_ONLY": "yes", "LTOD_REMOTE_TIMEOUT": "400ms",
                                                "LTOD_REMOTE_MAX_ENTRY_SIZE": "16M"], fileValues: [:])
        #expect(c.remoteStorage == RemoteStorageURL(endpoint: .tcp(host: "10.0.0.5", port: 7001), password: "pw", database: 1))
        #expect(c.remoteReadOnly && c.remoteTimeout == 0.4 && c.remoteMaxEntryBytes == 16 << 20)
        let shown = { (key: String) in Setting.all.first { $0.key == key }!.value(in: c) }
        #expect(shown("remote_storage") == "redis://:***@10.0.0.5:7001/1")
        #expect(shown("remote_timeout") == "400ms")
        let defaults = try Configuration(environment: ["HOME": "/h"], fileValues: [:])
        #expect(defaults.remoteStorage == nil && defaults.remoteTimeout < 1 && !defaults.remoteReadOnly)
        #expect { try Configuration(environment: ["HOME": "/h", "LTOD_REMOTE_STORAGE": "redis:/h"], fileValues: [:]) } throws: { error in
            "\(error)".contains(RemoteStorageURL.acceptedForms)
        }
        #expect(throws: ConfigurationError.self) { try Configuration(environment: ["HOME": "/h", "LTOD_REMOTE_TIMEOUT": "0"], fileValues: [:]) }
    }
}
