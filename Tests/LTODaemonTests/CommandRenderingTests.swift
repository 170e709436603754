import Foundation
import LTOBackend
import LTOConfig
import LTOTestSupport
import Testing
@testable import LTODaemon

@Suite struct TextTableTests {
    @Test func columnsAreAsWideAsTheirLongestCellWithoutTrailingSpaces() {
        var table = TextTable([.left, .right, .left])
        table.heading("a heading longer than any cell")
        table.row("canonical_keys", "true", "default")
        table.row("x", "1234567", "")
        let lines = table.text.split(separator: "\n").map(String.init)
        #expect(lines[1] == "canonical_keys     true  default")
        #expect(lines[2] == "x               1234567")
    }
}

@Suite struct ConfigReportTests {
    func file(_ text: String) throws -> (TemporaryDirectory, String) {
        let dir = try TemporaryDirectory("configreport")
        try dir.write("config.toml", text)
        return (dir, dir.file("config.toml"))
    }

    @Test func keysValuesAndSourcesLineUpAndDifferencesFromTheRunningDaemonAreMarked() throws {
        let (dir, path) = try file("jobs = 3\nidle_timeout = \"90s\"\n")
        _ = dir
        let env = ["LTOD_CONFIG": path, "HOME": "/h", "LTOD_PARTITION": "keep", "LTOD_SOCKET": "/s/socket"]
        let settings = try #require(RunningSettings(json: Array("""
            {"pid": 42, "socket": "/s/socket", "cache": "/h/.cache/ltod", "settings": {
              "jobs": {"value": "3", "source": "\(path):1"}, "idle_timeout": {"value": "1800s", "source": "default"},
              "max_size": {"value": "5.0 GiB", "source": "default"}}}
            """.utf8)))
        let text = ConfigReport(environment: env, running: settings).text
        let lines = text.split(separator: "\n").map(String.init)
        let partition = try #require(lines.first { $0.hasPrefix("  partition ") })
        #expect(partition.contains("keep") && partition.hasSuffix("environment (LTOD_PARTITION)"), "\(partition)")
        let idle = try #require(lines.first { $0.hasPrefix("  idle_timeout ") })
        #expect(idle.contains("1800s") && idle.hasSuffix("* now: 90s (\(path):2)"), "\(idle)")
        let jobs = try #require(lines.first { $0.hasPrefix("  jobs ") })
        #expect(!jobs.contains("*"), "\(jobs)")
        #expect(text.contains("running, pid 42"))
        // Every setting row puts its value in the same column, whatever the key's length.
        let rows = lines.filter { line in Setting.all.contains { line.hasPrefix("  \($0.key) ") } }
        #expect(rows.count == Setting.all.count)
        let valueColumns = Set(rows.map { row -> Int in row.count - row.dropFirst(2).drop { $0 != " " }.drop { $0 == " " }.count })
        #expect(valueColumns.count == 1, "\(text)")
        #expect(!text.contains(" \n"))
    }

    @Test func aBadFileIsShownWithItsLineAndTheReportSaysSo() throws {
        let (dir, path) = try file("partition = \"fast\"\n")
        _ = dir
        let report = ConfigReport(environment: ["LTOD_CONFIG": path, "HOME": "/h"], running: nil)
        #expect(report.hasErrors)
        #expect(report.text.contains("a link would fail: \(path):1: partition = \"fast\" is not valid; expected 1to1, balanced, max, keep"))
        #expect(report.text.contains("daemon       not running"))
    }
}

@Suite struct LinkSettingsTests {
    @Test func aLinkReadsItsVariableThenTheFileThenTheDefault() throws {
        let dir = try TemporaryDirectory("linksettings")
        try dir.write("config.toml", "# settings\nstrict = true  # a comment\npartition = 'keep'\njobs = \"many\"\n[table]\npartition = \"max\"\n")
        let env = ["LTOD_CONFIG": dir.file("config.toml"), "HOME": "/h", "LTOD_MAX_SIZE": "lots"]
        let fromFile = try Configuration.forLink(environment: env)
        #expect(fromFile.partition == .keep && fromFile.strict, "daemon-wide values (jobs, LTOD_MAX_SIZE) are not the link's to judge")
        #expect(fromFile.sources["partition"] == dir.file("config.toml") + ":3")
        let fromEnvironment = try Configuration.forLink(environment: env.merging(["LTOD_PARTITION": "balanced"]) { $1 })
        #expect(fromEnvironment.partition == .balanced)
        #expect(fromEnvironment.linkVariables.map { "\($0.name)=\($0.value)" } == ["LTOD_PARTITION=balanced", "LTOD_STRICT=true"])

        // The daemon applies what the link carries over its own settings.
        let daemon = try Configuration(environment: ["HOME": "/h"], fileValues: [:])
        let link = try daemon.applyingLink(environment: fromEnvironment.linkVariables.map { "\($0.name)=\($0.value)" })
        #expect(link.partition == .balanced && link.strict && link.sources["partition"] == "link (LTOD_PARTITION)")
        #expect(throws: ConfigurationError.self) { try daemon.applyingLink(environment: ["LTOD_PARTITION=fast"]) }
    }

    @Test func aBadValueInTheFileNamesItsLine() throws {
        let dir = try TemporaryDirectory("linksettings")
        try dir.write("config.toml", "\nstrict = maybe\n")
        do {
            _ = try Configuration.forLink(environment: ["LTOD_CONFIG": dir.file("config.toml"), "HOME": "/h"])
            Issue.record("accepted strict = maybe")
        } catch {
            #expect(error.description == "\(dir.file("config.toml")):2: strict = \"maybe\" is not valid; expected true or false")
        }
    }
}

@Suite struct ConfigFileEditTests {
    @Test func settingAValueReplacesItsLineAndKeepsTheRest() throws {
        let dir = try TemporaryDirectory("setconfig")
        try dir.write("config.toml", "# mine\njobs = 2\nmax_size = \"5G\"  # old\n")
        #expect(try ConfigFile.set("max_size", toText: "10G", inFile: dir.file("config.toml")) == 3)
        #expect(try String(contentsOfFile: dir.file("config.toml"), encoding: .utf8) == "# mine\njobs = 2\nmax_size = \"10G\"\n")
    }

    @Test func aNewValueIsAddedAtTheEndAndAMissingFileIsCreated() throws {
        let dir = try TemporaryDirectory("setconfig")
        try dir.write("config.toml", "jobs = 2\n# the end")
        #expect(try ConfigFile.set("max_size", toText: "1G", inFile: dir.file("config.toml")) == 3)
        #expect(try String(contentsOfFile: dir.file("config.toml"), encoding: .utf8) == "jobs = 2\n# the end\nmax_size = \"1G\"\n")
        let fresh = dir.path + "/new/ltod/config.toml"
        #expect(try ConfigFile.set("max_size", toText: "2G", inFile: fresh) == 1)
        #expect(try String(contentsOfFile: fresh, encoding: .utf8) == "max_size = \"2G\"\n")
    }

    @Test func aFileThatIsNotValidIsLeftAlone() throws {
        let dir = try TemporaryDirectory("setconfig")
        try dir.write("config.toml", "jobs = = 2\n")
        #expect(throws: ConfigurationError.self) { try ConfigFile.set("max_size", toText: "1G", inFile: dir.file("config.toml")) }
        #expect(try String(contentsOfFile: dir.file("config.toml"), encoding: .utf8) == "jobs = = 2\n")
    }
}

@Suite struct ExplainRenderingTests {
    @Test func cxxNamesAreDemangledByTheRuntimeAndCNamesKept() {
        #expect(ExplainView.readable("_ZN2ns6helperEi") == "ns::helper(int)")
        #expect(ExplainView.readable("_ZN2ns6helperEi.part.0") == "ns::helper(int) [clone .part.0]")
        #expect(ExplainView.readable("luaL_argerror") == "luaL_argerror")
        #expect(ExplainView.readable("_Zoops") == "_Zoops")
        #expect(ExplainView.readableText("new key: holds changed functions _Z1fv, g") == "new key: holds changed functions f(), g")
    }

    @Test func aTargetNameMatchesWholeTrailingComponents() {
        let targets = ["/a/app", "/b/app", "/c/bigapp", "/d/tool"]
        #expect(LinkHistoryLog.matches("tool", among: targets) == ["/d/tool"])
        #expect(LinkHistoryLog.matches("app", among: targets) == ["/a/app", "/b/app"])
        #expect(LinkHistoryLog.matches("b/app", among: targets) == ["/b/app"])
        #expect(LinkHistoryLog.matches("/a/./x/../app", among: targets) == ["/a/app"])
        #expect(LinkHistoryLog.matches("/e/app", among: targets).isEmpty)
        #expect(TargetError.ambiguous("app", ["/a/app", "/b/app"]).description.hasSuffix("\n  /a/app\n  /b/app"))
    }

    @Test func theTextNamesPartitionsInTheSingular() {
        let report = LinkReport(target: "/t/app", started: 0, wpaSeconds: 0.1, firstLink: true, changes: [], total: 1, reused: 0,
                                savedSeconds: 0, rebuilt: [], reusedWithNote: [], keys: [])
        #expect(ExplainView(report: report).text.hasPrefix("/t/app: 1 partition, 0 reused"))
    }
}

@Suite struct LogFileTests {
    @Test func theLogIsAppendedToAndRotatedPastItsLimit() throws {
        let dir = try TemporaryDirectory("logfile")
        let path = dir.file("ltod.log")
        try dir.write("ltod.log", "an earlier daemon's line\n")
        let saved = (dup(1), dup(2))
        defer {
            dup2(saved.0, 1)
            dup2(saved.1, 2)
            close(saved.0)
            close(saved.1)
        }
        let log = try LogFile(path: path, limit: 100)
        FileHandle.standardError.write(Data("this daemon's line\n".utf8))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "an earlier daemon's line\nthis daemon's line\n")
        FileHandle.standardError.write(Data(String(repeating: "x", count: 120).utf8 + [10]))
        log.rotateIfNeeded()
        FileHandle.standardError.write(Data("after rotation\n".utf8))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "after rotation\n")
        #expect(try String(contentsOfFile: path + ".1", encoding: .utf8).hasPrefix("an earlier daemon's line\n"))
    }
}
