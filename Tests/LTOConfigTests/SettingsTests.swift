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
