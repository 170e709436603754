import Foundation
import LTOConfig
import Testing
@testable import LTODaemon

@Suite struct ConfigFileTests {
    func file(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "ltod-config-\(UUID().uuidString).toml"
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        return path
    }

    @Test func environmentOverridesTheFileWhichOverridesDefaults() throws {
        let path = try file("# comment\nmax_size = \"2G\"\npartition = \"balanced\"\njobs = 3\nstrict = true\n")
        defer { unlink(path) }
        let c = try ConfigFile.load(["LTOD_CONFIG": path, "LTOD_JOBS": "1", "HOME": "/h"])
        #expect(c.maxSizeBytes == 2 << 30 && c.partition == .balanced && c.jobs == 1 && c.strict)
        #expect(c.sources["max_size"] == "\(path):2")
        #expect(c.sources["jobs"] == "environment (LTOD_JOBS)")
        #expect(c.sources["idle_timeout"] == "default" && c.idleTimeout == 1800)
        #expect(c.cacheDirectory == "/h/.cache/ltod")
    }

    @Test func missingFileMeansDefaults() throws {
        let c = try ConfigFile.load(["LTOD_CONFIG": "/nonexistent/config.toml", "HOME": "/h"])
        #expect(c.partition == .oneToOne && c.maxSizeBytes == 5 << 30 && c.wholeLink)
    }

    @Test(arguments: [
        ("partition = \"fast\"\n", ":1: partition = \"fast\" is not valid; expected 1to1, balanced, max, keep"),
        ("jobs = 0\n", ":1: jobs = 0 is not valid; expected a positive number"),
        ("\n\nmax_sise = \"1G\"\n", ":3: unknown key 'max_sise'; valid keys: max_size"),
        ("strict = \"maybe\"\n", ":1: strict = \"maybe\" is not valid; expected true or false"),
        ("idle_timeout = \n", ":1: "),
    ])
    func badFilesNameFileLineAndChoices(text: String, expected: String) throws {
        let path = try file(text)
        defer { unlink(path) }
        do {
            _ = try ConfigFile.load(["LTOD_CONFIG": path])
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.description.hasPrefix(path + expected), "\(error)")
        }
    }

    @Test func badEnvironmentValuesNameTheVariable() {
        #expect(throws: ConfigurationError.self) { try ConfigFile.load(["LTOD_MAX_SIZE": "lots", "LTOD_CONFIG": "/nonexistent"]) }
        do { _ = try ConfigFile.load(["LTOD_PARTITION": "x", "LTOD_CONFIG": "/nonexistent"]) } catch {
            #expect(error.description == "LTOD_PARTITION=x is not valid; expected 1to1, balanced, max, keep")
        }
    }

    @Test func auditSettingsAreValidated() throws {
        let c = try ConfigFile.load(["LTOD_AUDIT": "0.25", "LTOD_CANONICAL_KEYS": "off", "HOME": "/h"])
        #expect(c.auditFraction == 0.25 && !c.canonicalKeys)
        #expect(throws: ConfigurationError.self) { try ConfigFile.load(["LTOD_AUDIT": "2", "HOME": "/h"]) }
        let path = try file("audit = 0.05\ncanonical_keys = true\n")
        defer { unlink(path) }
        let fromFile = try ConfigFile.load(["LTOD_CONFIG": path, "HOME": "/h"])
        #expect(fromFile.auditFraction == 0.05 && fromFile.canonicalKeys)
        #expect(fromFile.sources["audit"] == "\(path):1")
    }
}
